package main

import (
	"os"
	"strings"
	"testing"
)

// finalStage is a Dockerfile's last stage without comments, with COPY
// sources dropped (one copies from the host, the other from the build
// stage).
func finalStage(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "FROM "):
			out = nil
		case l == "" || strings.HasPrefix(l, "#"):
			continue
		case strings.HasPrefix(l, "COPY "):
			f := strings.Fields(l)
			l = "COPY " + f[len(f)-1] // the destination
		}
		out = append(out, l)
	}
	return out
}

// Dockerfile.golang (the multi-stage build for a Docker that can pull
// golang) cannot be built here (no registry); its final image must be the
// one ./Dockerfile makes, which the Docker suite tests.
func TestDockerfilesMakeTheSameImage(t *testing.T) {
	a, b := finalStage(t, "../../Dockerfile"), finalStage(t, "../../Dockerfile.golang")
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("final stages differ:\nDockerfile:\n%s\n\nDockerfile.golang:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}
