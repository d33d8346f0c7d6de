package httpdtest

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Console is a cookie-keeping HTTP client for the web console: a browser
// without JavaScript, for tests of the server-rendered pages.
type Console struct {
	n    *Node
	t    testing.TB
	c    *http.Client
	csrf string // from the last page that had a form
	// Header is sent with every request (e.g. X-Forwarded-For, to act
	// from another client address: loopback is a trusted proxy).
	Header http.Header
	// OnRead, when set, sees each piece of a response body as it arrives
	// (a streamed page's progress).
	OnRead func(piece []byte)
}

// NewConsole returns a console client with an empty cookie jar.
func (n *Node) NewConsole(t testing.TB) *Console {
	jar, _ := cookiejar.New(nil)
	return &Console{n: n, t: t, c: &http.Client{Jar: jar, CheckRedirect: client.CheckRedirect, Timeout: client.Timeout}}
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	tokenText = regexp.MustCompile(`<p class="token"[^>]*>([^<]*)</p>`)
)

// Get fetches a console page (no redirects followed).
func (c *Console) Get(path string) Response {
	c.t.Helper()
	return c.do("GET", path, nil)
}

// Post submits a form with the CSRF token of the last page fetched
// (unless form sets "csrf" itself).
func (c *Console) Post(path string, form url.Values) Response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	return c.do("POST", path, form)
}

func (c *Console) do(method, path string, form url.Values) Response {
	c.t.Helper()
	var body io.Reader
	ctype := ""
	if form != nil {
		body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	return c.send(method, path, body, ctype)
}

// send makes a request with the console's cookies and remembers the CSRF
// token of the page it gets back.
func (c *Console) send(method, path string, body io.Reader, ctype string) Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.n.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b []byte
	for buf := make([]byte, 32<<10); ; {
		n, err := resp.Body.Read(buf)
		if n > 0 && c.OnRead != nil {
			c.OnRead(buf[:n])
		}
		b = append(b, buf[:n]...)
		if err == io.EOF {
			break
		} else if err != nil {
			c.t.Fatal(err)
		}
	}
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = html.UnescapeString(string(m[1]))
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Login logs in through the login form and fails the test otherwise.
func (c *Console) Login(email, password string) {
	c.t.Helper()
	c.Get("/app/login")
	r := c.Post("/app/login", url.Values{"email": {email}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("login as %s: %d %s", email, r.Status, r.Body)
	}
}

// NewKey creates an API key through the keys page and returns its token.
func (c *Console) NewKey(name string, scopes ...string) string {
	c.t.Helper()
	c.Get("/app/keys")
	r := c.Post("/app/keys", url.Values{"name": {name}, "scopes": scopes})
	m := tokenText.FindSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		c.t.Fatalf("creating key %s: %d %s", name, r.Status, r.Body)
	}
	return html.UnescapeString(string(m[1]))
}

// User creates a user with the admin API and returns a console client
// logged in as them and an API token with every user scope.
func (n *Node) User(t testing.TB, email, password string) (*Console, string) {
	t.Helper()
	r := n.Do("POST", "/api/v1/users", []byte(`{"email":"`+email+`","password":"`+password+`"}`))
	if r.Status != http.StatusCreated {
		t.Fatalf("creating user %s: %d %s", email, r.Status, r.Body)
	}
	c := n.NewConsole(t)
	c.Login(email, password)
	return c, c.NewKey("test", "links:read", "links:write", "analytics:read", "profile:write", "keys:write")
}

// As returns the header arguments of Do that authenticate with token.
func As(token string) []string { return []string{"Authorization", "Bearer " + token} }

// CSRF returns the form token of the last page fetched.
func (c *Console) CSRF() string { return c.csrf }

// URL is the node's base URL; Client sends with this console's cookies.
func (c *Console) URL() string          { return c.n.URL }
func (c *Console) Client() *http.Client { return c.c }

// PostMultipart submits a multipart form (as the profile editor does) with
// the CSRF token of the last page fetched and the given files.
func (c *Console) PostMultipart(path string, form url.Values, files map[string][]byte) Response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if _, ok := form["csrf"]; !ok {
		w.WriteField("csrf", c.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, _ := w.CreateFormFile(name, name+".png")
		fw.Write(data)
	}
	w.Close()
	return c.send("POST", path, &body, w.FormDataContentType())
}

// ConsoleAt returns a console client for a node this package did not
// start (a linkd process at base, e.g. http://127.0.0.1:8080).
func ConsoleAt(t testing.TB, base string) *Console {
	return (&Node{URL: base, t: t}).NewConsole(t)
}
