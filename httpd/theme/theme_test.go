package theme

import (
	"strings"
	"testing"
)

func TestBuiltinThemesAreValidAndReadable(t *testing.T) {
	if len(Builtin) < 20 {
		t.Fatalf("%d themes, want at least 20", len(Builtin))
	}
	seen := map[string]bool{}
	for _, th := range Builtin {
		if seen[th.ID] {
			t.Errorf("duplicate theme %s", th.ID)
		}
		seen[th.ID] = true
		if errs := Validate(th.ID, Custom{}); errs != nil {
			t.Errorf("theme %s: %+v", th.ID, errs)
		}
		if _, ok := Fonts[th.Font]; !ok {
			t.Errorf("theme %s: font %s", th.ID, th.Font)
		}
	}
}

func TestValidateCustom(t *testing.T) {
	cases := []struct {
		c     Custom
		field string
	}{
		{Custom{Background: "red"}, "customTheme.background"},
		{Custom{Text: "#12345"}, "customTheme.text"},
		{Custom{Accent: "#1234567"}, "customTheme.accent"},
		{Custom{Font: "Comic Sans"}, "customTheme.font"},
		{Custom{Shape: "blob"}, "customTheme.shape"},
		{Custom{Background: "#ffffff", Text: "#eeeeee"}, "customTheme.text"},
		{Custom{Button: "#000000", ButtonText: "#111111"}, "customTheme.buttonText"},
		{Custom{Background: "#ffffff", Text: "#000000", Gradient: "#000000"}, "customTheme.text"},
		{Custom{Text: "#000000;}body{x:url(//evil)"}, "customTheme.text"},
	}
	for _, c := range cases {
		errs := Validate("classic", c.c)
		if len(errs) == 0 || errs[0].Field != c.field {
			t.Errorf("Validate(%+v) = %+v, want an error on %s", c.c, errs, c.field)
		}
	}
	if errs := Validate("nope", Custom{}); len(errs) != 1 || errs[0].Field != "theme" {
		t.Errorf("unknown theme: %+v", errs)
	}
	if errs := Validate("classic", Custom{Background: "#000000", Text: "#ffffff", Button: "#ffffff", ButtonText: "#000000", Font: "serif", Shape: "pill"}); errs != nil {
		t.Errorf("a readable customisation was refused: %+v", errs)
	}
}

func TestContrast(t *testing.T) {
	if r := Contrast("#000000", "#ffffff"); r < 20.9 || r > 21.1 {
		t.Errorf("black on white = %.2f, want 21", r)
	}
	if r := Contrast("#777777", "#ffffff"); r < 4.4 || r > 4.6 {
		t.Errorf("#777 on white = %.2f, want about 4.48", r)
	}
}

func TestVars(t *testing.T) {
	th, _ := Find("sunset")
	v := th.Vars("")
	if !strings.Contains(v, "linear-gradient(160deg,#c2410c,#7b2ff7)") || !strings.Contains(v, "--radius:999px") {
		t.Fatalf("vars: %s", v)
	}
	th, _ = Find("mono")
	if v := th.Vars("/_/img/ab.jpg"); !strings.Contains(v, `--btn:transparent`) || !strings.Contains(v, `url("/_/img/ab.jpg")`) {
		t.Fatalf("outline theme with image: %s", v)
	}
}
