package svgchart_test

import (
	"fmt"
	"html/template"
	"os"
	"strings"

	"github.com/linkd/linkd/httpd/svgchart"
)

// Series returns template.HTML, so a page template inserts the chart as
// markup rather than escaping it a second time.
func ExampleSeries() {
	pts := []svgchart.Point{
		{Label: "Nov 21", Value: 12},
		{Label: "Nov 22", Value: 1480},
		{Label: "Nov 23", Value: 730},
	}
	page := template.Must(template.New("page").Parse(`<section>{{.}}</section>`))
	var out strings.Builder
	if err := page.Execute(&out, svgchart.Series("Clicks per day", pts, 640, 200)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	html := out.String()
	fmt.Println(strings.HasPrefix(html, "<section><svg "))
	fmt.Println(strings.Contains(html, "<title>Nov 22: 1,480</title>"))
	fmt.Println(strings.Contains(html, ">1.5k</text>"))
	// Output:
	// true
	// true
	// true
}
