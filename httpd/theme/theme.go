// Package theme holds the built-in profile page themes and turns a theme
// plus a user's validated customisation into CSS custom properties. Users
// choose tokens (colors, a font and a button shape from fixed lists, an
// uploaded image); they never supply CSS.
package theme

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Theme is a complete set of tokens.
type Theme struct {
	ID, Name                                               string
	Background, Gradient, Text, Button, ButtonText, Accent string
	Font, Shape                                            string
}

// Fonts are the font stacks a page may use: system fonts only, so pages
// load no font files.
var Fonts = map[string]string{
	"system":    `system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif`,
	"serif":     `Charter,"Bitstream Charter","Sitka Text",Cambria,Georgia,serif`,
	"mono":      `ui-monospace,"Cascadia Code","Source Code Pro",Menlo,Consolas,monospace`,
	"rounded":   `ui-rounded,"Hiragino Maru Gothic ProN",Quicksand,Comfortaa,Manjari,"Arial Rounded MT",Calibri,sans-serif`,
	"humanist":  `Seravek,"Gill Sans Nova",Ubuntu,Calibri,"DejaVu Sans",source-sans-pro,sans-serif`,
	"geometric": `Avenir,Montserrat,Corbel,"URW Gothic",source-sans-pro,sans-serif`,
	"slab":      `Rockwell,"Rockwell Nova","Roboto Slab","DejaVu Serif","Sitka Small",serif`,
}

// Shapes are the button shapes: corner radius and whether the button is
// outlined instead of filled.
var Shapes = map[string]struct {
	Radius  string
	Outline bool
}{
	"square": {"0", false}, "rounded": {"10px", false}, "pill": {"999px", false},
	"outline": {"10px", true}, "outline-pill": {"999px", true},
}

// Builtin are the themes, in the order the editor shows them.
var Builtin = []Theme{
	{"classic", "Classic", "#f5f6f8", "", "#16181d", "#16181d", "#ffffff", "#4338ca", "system", "rounded"},
	{"midnight", "Midnight", "#0f172a", "", "#e2e8f0", "#1e293b", "#f8fafc", "#38bdf8", "system", "rounded"},
	{"paper", "Paper", "#fbf8f1", "", "#2b2118", "#2b2118", "#fbf8f1", "#9a3412", "serif", "square"},
	{"mint", "Mint", "#e8f7f0", "", "#053b2b", "#0b6b4f", "#ffffff", "#0b6b4f", "rounded", "pill"},
	{"sunset", "Sunset", "#c2410c", "#7b2ff7", "#ffffff", "#ffffff", "#3b0764", "#ffe4e6", "geometric", "pill"},
	{"ocean", "Ocean", "#0077b6", "#023e8a", "#ffffff", "#03045e", "#ffffff", "#caf0f8", "system", "rounded"},
	{"forest", "Forest", "#1b4332", "", "#d8f3dc", "#d8f3dc", "#1b4332", "#95d5b2", "humanist", "rounded"},
	{"lavender", "Lavender", "#f3e8ff", "", "#3b0764", "#6b21a8", "#ffffff", "#7e22ce", "rounded", "pill"},
	{"mono", "Monochrome", "#ffffff", "", "#000000", "#000000", "#ffffff", "#000000", "mono", "outline"},
	{"terminal", "Terminal", "#0c0c0c", "", "#33ff66", "#33ff66", "#0c0c0c", "#33ff66", "mono", "outline"},
	{"peach", "Peach", "#ffe5d9", "", "#5c2a1a", "#b23f16", "#ffffff", "#9c3d1e", "geometric", "rounded"},
	{"slate", "Slate", "#334155", "", "#f1f5f9", "#f1f5f9", "#1e293b", "#cbd5e1", "system", "square"},
	{"candy", "Candy", "#ffafcc", "#a2d2ff", "#2d1b3d", "#ffffff", "#2d1b3d", "#6d1a4b", "rounded", "pill"},
	{"gold", "Gold", "#111111", "", "#f5e6c4", "#c9a227", "#111111", "#e9c46a", "serif", "outline-pill"},
	{"sky", "Sky", "#e0f2fe", "#ffffff", "#0c4a6e", "#0369a1", "#ffffff", "#0369a1", "system", "pill"},
	{"berry", "Berry", "#4a0e2e", "#86184c", "#ffe4ef", "#ffe4ef", "#4a0e2e", "#ffb3d1", "humanist", "rounded"},
	{"sand", "Sand", "#ede0c8", "", "#3d2f1f", "#3d2f1f", "#ede0c8", "#7a5c2e", "slab", "square"},
	{"neon", "Neon", "#120458", "#000000", "#f9f871", "#d1004f", "#ffffff", "#05d9e8", "geometric", "pill"},
	{"nordic", "Nordic", "#eceff4", "", "#2e3440", "#4c6a92", "#ffffff", "#3b5f8a", "humanist", "rounded"},
	{"coffee", "Coffee", "#3e2723", "#5d4037", "#efebe9", "#d7ccc8", "#3e2723", "#ffccbc", "slab", "rounded"},
}

// Find returns a built-in theme by id.
func Find(id string) (Theme, bool) {
	for _, t := range Builtin {
		if t.ID == id {
			return t, true
		}
	}
	return Theme{}, false
}

// Custom is a user's overrides; "" keeps the theme's value.
type Custom struct {
	Background, Gradient, Text, Button, ButtonText, Accent string
	Font, Shape                                            string
}

// Apply returns t with c's overrides.
func (t Theme) Apply(c Custom) Theme {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&t.Background, c.Background)
	set(&t.Gradient, c.Gradient)
	set(&t.Text, c.Text)
	set(&t.Button, c.Button)
	set(&t.ButtonText, c.ButtonText)
	set(&t.Accent, c.Accent)
	set(&t.Font, c.Font)
	set(&t.Shape, c.Shape)
	return t
}

// MinContrast is the WCAG AA ratio text must keep against its background.
const MinContrast = 4.5

// FieldError names an invalid customisation field.
type FieldError struct{ Field, Message string }

// Validate checks a customisation on top of theme id and returns every
// problem, including text that would be hard to read.
func Validate(id string, c Custom) []FieldError {
	var errs []FieldError
	base, ok := Find(id)
	if !ok {
		return []FieldError{{"theme", "unknown theme " + strconv.Quote(id)}}
	}
	for name, v := range map[string]string{"background": c.Background, "gradient": c.Gradient, "text": c.Text,
		"button": c.Button, "buttonText": c.ButtonText, "accent": c.Accent} {
		if v != "" && !isColor(v) {
			errs = append(errs, FieldError{"customTheme." + name, "must be a color like #1a2b3c"})
		}
	}
	if _, ok := Fonts[c.Font]; c.Font != "" && !ok {
		errs = append(errs, FieldError{"customTheme.font", "must be one of " + keys(Fonts)})
	}
	if _, ok := Shapes[c.Shape]; c.Shape != "" && !ok {
		errs = append(errs, FieldError{"customTheme.shape", "must be one of square, rounded, pill, outline, outline-pill"})
	}
	if errs != nil {
		return errs
	}
	t := base.Apply(c)
	for _, bg := range []string{t.Background, t.Gradient} {
		if r := Contrast(t.Text, bg); bg != "" && r < MinContrast {
			errs = append(errs, FieldError{"customTheme.text", fmt.Sprintf("contrast with the background is %.1f:1; at least %.1f:1 is needed to be readable", r, MinContrast)})
			break
		}
	}
	if fg, bg := t.ButtonText, t.Button; Shapes[t.Shape].Outline {
		if r := Contrast(t.Button, t.Background); r < MinContrast {
			errs = append(errs, FieldError{"customTheme.button", fmt.Sprintf("outlined buttons need %.1f:1 contrast with the background; this is %.1f:1", MinContrast, r)})
		}
	} else if r := Contrast(fg, bg); r < MinContrast {
		errs = append(errs, FieldError{"customTheme.buttonText", fmt.Sprintf("contrast with the button is %.1f:1; at least %.1f:1 is needed", r, MinContrast)})
	}
	return errs
}

func keys(m map[string]string) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func isColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	_, err := strconv.ParseUint(s[1:], 16, 32)
	return err == nil
}

// Contrast is the WCAG contrast ratio of two #rrggbb colors.
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c string) float64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 32)
	if err != nil {
		return 0
	}
	ch := func(shift uint) float64 {
		x := float64((v>>shift)&0xff) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(16) + 0.7152*ch(8) + 0.0722*ch(0)
}

// Vars writes the theme as CSS custom properties for :root. Every value
// is a validated token, so nothing here can break out of the declaration.
// bgImage is the URL of an uploaded background image, or "".
func (t Theme) Vars(bgImage string) string {
	bg := t.Background
	if t.Gradient != "" {
		bg = "linear-gradient(160deg," + t.Background + "," + t.Gradient + ")"
	}
	if bgImage != "" {
		bg = `center/cover no-repeat url("` + bgImage + `"),` + t.Background
	}
	shape := Shapes[t.Shape]
	btnBg, btnBorder, btnText := t.Button, t.Button, t.ButtonText
	if shape.Outline {
		btnBg, btnText = "transparent", t.Button
	}
	return fmt.Sprintf("--bg:%s;--bg-solid:%s;--text:%s;--btn:%s;--btn-border:%s;--btn-text:%s;--accent:%s;--radius:%s;--font:%s",
		bg, t.Background, t.Text, btnBg, btnBorder, btnText, t.Accent, shape.Radius, Fonts[t.Font])
}
