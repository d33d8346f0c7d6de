package httpd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/httpd/imaging"
	"github.com/linkd/linkd/httpd/social"
	"github.com/linkd/linkd/httpd/theme"
	"github.com/linkd/linkd/httpd/validate"
	"github.com/linkd/linkd/store"
)

// Profile limits, kept together.
const (
	maxDisplayName = 80  // characters
	maxBio         = 300 // characters
)

// profileJSON is a profile as the API reads and writes it.
type profileJSON struct {
	Handle      string            `json:"handle"`
	DisplayName string            `json:"displayName"`
	Bio         string            `json:"bio"`
	Avatar      string            `json:"avatar,omitempty"`
	Theme       string            `json:"theme"`
	CustomTheme *customThemeJSON  `json:"customTheme,omitempty"`
	Links       []profileLinkJSON `json:"links"`
	URL         string            `json:"url,omitempty"`      // response only
	PageCode    string            `json:"pageCode,omitempty"` // response only
	Views       *uint64           `json:"views,omitempty"`    // response only, owner's view
	UpdatedAt   string            `json:"updatedAt,omitempty"`
}

type customThemeJSON struct {
	Background      string `json:"background,omitempty"`
	Gradient        string `json:"gradient,omitempty"`
	Text            string `json:"text,omitempty"`
	Button          string `json:"button,omitempty"`
	ButtonText      string `json:"buttonText,omitempty"`
	Accent          string `json:"accent,omitempty"`
	Font            string `json:"font,omitempty"`
	Shape           string `json:"shape,omitempty"`
	BackgroundImage string `json:"backgroundImage,omitempty"`
}

type profileLinkJSON struct {
	Code      string  `json:"code,omitempty"`
	Title     string  `json:"title"`
	URL       string  `json:"url"`
	Thumbnail string  `json:"thumbnail,omitempty"`
	Enabled   *bool   `json:"enabled,omitempty"`
	StartsAt  *string `json:"startsAt,omitempty"`
	EndsAt    *string `json:"endsAt,omitempty"`
	Sensitive bool    `json:"sensitive,omitempty"`
	Social    bool    `json:"social,omitempty"`
	Platform  string  `json:"platform,omitempty"` // response only
	ShortURL  string  `json:"shortUrl,omitempty"` // response only
	Clicks    *uint64 `json:"clicks,omitempty"`   // response only, owner's view
}

// profileView renders a stored profile; owner adds counts and schedules.
func (s *Server) profileView(p *store.Profile, owner bool) profileJSON {
	v := profileJSON{Handle: p.Handle, DisplayName: p.DisplayName, Bio: p.Bio, Avatar: p.Avatar, Theme: p.Theme,
		URL: s.public + "/@" + p.Handle, Links: []profileLinkJSON{}, UpdatedAt: msTime(p.UpdatedAt)}
	if c := p.Custom; c != (store.ThemeCustom{}) {
		v.CustomTheme = &customThemeJSON{c.Background, c.Gradient, c.Text, c.Button, c.ButtonText, c.Accent, c.Font, c.Shape, c.BackgroundImage}
	}
	now := time.Now().UnixMilli()
	if owner {
		n, _ := s.st.Clicks(p.PageCode)
		v.Views, v.PageCode = &n, p.PageCode
	}
	for _, l := range p.Links {
		if !owner && !l.Visible(now) {
			continue
		}
		lj := profileLinkJSON{Code: l.Code, Title: l.Title, URL: l.URL, Thumbnail: l.Thumbnail, Sensitive: l.Sensitive,
			Social: l.Social, Platform: social.Detect(l.URL).ID, ShortURL: s.public + "/" + l.Code}
		if owner {
			enabled := l.Enabled
			n, _ := s.st.Clicks(l.Code)
			lj.Enabled, lj.Clicks = &enabled, &n
			lj.StartsAt, lj.EndsAt = optTime(l.StartsAt), optTime(l.EndsAt)
		}
		v.Links = append(v.Links, lj)
	}
	return v
}

func optTime(ms int64) *string {
	if ms == 0 {
		return nil
	}
	t := msTime(ms)
	return &t
}

// profileRoutes serves /profile, /profiles/{handle} and /images.
func (s *Server) profileRoutes(ctx *fasthttp.RequestCtx, p principal, rest string) map[string]route {
	switch {
	case rest == "profile":
		return map[string]route{
			"GET": {0, func() { s.getOwnProfile(ctx, p) }},
			"PUT": {scopeProfileWrite, func() { s.putProfile(ctx, p) }},
		}
	case rest == "images":
		return map[string]route{"POST": {scopeProfileWrite, func() { s.uploadImage(ctx, p) }}}
	}
	return nil
}

func (s *Server) getOwnProfile(ctx *fasthttp.RequestCtx, p principal) {
	prof, err := s.st.Profile(p.owner())
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(ctx, probNotFound, "You have no profile yet; create it with PUT /api/v1/profile.")
		return
	}
	s.answer(ctx, fasthttp.StatusOK, s.profileView(prof, true), err)
}

// publicProfile serves GET /api/v1/profiles/{handle}: what the page shows,
// no authentication needed.
func (s *Server) publicProfile(ctx *fasthttp.RequestCtx, handle string) {
	prof, err := s.st.ProfileByHandle(strings.ToLower(handle))
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(ctx, probNotFound, "No profile with that handle.")
		return
	}
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	v := s.profileView(prof, false)
	writeJSON(ctx, fasthttp.StatusOK, v)
	ctx.Response.Header.Set("Cache-Control", profileCacheControl)
}

func (s *Server) putProfile(ctx *fasthttp.RequestCtx, p principal) {
	var req profileJSON
	if !readJSON(ctx, &req) {
		return
	}
	res, err := s.saveProfile(p, req)
	if err != nil {
		s.proposeErr(ctx, err)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.profileView(res, true))
}

// saveProfile validates req, decides the codes of its links and replaces
// the principal's profile in one command (API and console editor).
func (s *Server) saveProfile(p principal, req profileJSON) (*store.Profile, error) {
	prev, err := s.st.Profile(p.owner())
	if errors.Is(err, store.ErrNotFound) {
		prev = nil
	} else if err != nil {
		return nil, err
	}
	now := time.Now()
	c, err := s.profileCommand(p.owner(), req, prev, now)
	if err != nil {
		return nil, err
	}
	if err := s.mintProfileCodes(c, prev); err != nil {
		return nil, err
	}
	res, err := s.propose(c)
	if err != nil {
		return nil, err
	}
	return res.Profile, nil
}

// profileCommand validates req into a command; codes are decided later.
func (s *Server) profileCommand(user uint64, req profileJSON, prev *store.Profile, now time.Time) (*fsm.SetProfile, error) {
	var errs fields
	c := &fsm.SetProfile{Now: now.UnixMilli(), User: user, Theme: req.Theme}
	var err error
	c.Handle, err = validate.Handle(req.Handle)
	errs.add("handle", err)
	c.DisplayName, err = boundedText(req.DisplayName, maxDisplayName, false)
	errs.add("displayName", err)
	c.Bio, err = boundedText(req.Bio, maxBio, true)
	errs.add("bio", err)
	c.Avatar = req.Avatar
	errs.add("avatar", s.checkImage(req.Avatar))
	if c.Theme == "" {
		c.Theme = theme.Builtin[0].ID
	}
	if ct := req.CustomTheme; ct != nil {
		c.Custom = store.ThemeCustom{Background: ct.Background, Gradient: ct.Gradient, Text: ct.Text, Button: ct.Button,
			ButtonText: ct.ButtonText, Accent: ct.Accent, Font: ct.Font, Shape: ct.Shape, BackgroundImage: ct.BackgroundImage}
		errs.add("customTheme.backgroundImage", s.checkImage(ct.BackgroundImage))
	}
	for _, fe := range theme.Validate(c.Theme, themeCustom(c.Custom)) {
		errs = append(errs, fieldError{Field: fe.Field, Message: fe.Message})
	}
	if len(req.Links) > store.MaxProfileLinks {
		errs = append(errs, fieldError{Field: "links", Message: fmt.Sprintf("at most %d links; this has %d", store.MaxProfileLinks, len(req.Links))})
	} else {
		c.Links = s.profileLinks(req.Links, prev, &errs)
	}
	if errs != nil {
		return nil, fail(probValidation, "The profile was not saved.", errs...)
	}
	c.PageURL = s.public + "/@" + c.Handle
	return c, nil
}

func themeCustom(c store.ThemeCustom) theme.Custom {
	return theme.Custom{Background: c.Background, Gradient: c.Gradient, Text: c.Text, Button: c.Button,
		ButtonText: c.ButtonText, Accent: c.Accent, Font: c.Font, Shape: c.Shape}
}

// profileLinks validates the links; a given code must be one of the
// profile's links.
func (s *Server) profileLinks(in []profileLinkJSON, prev *store.Profile, errs *fields) []store.ProfileLink {
	known, seen := map[string]bool{}, map[string]bool{}
	if prev != nil {
		for _, l := range prev.Links {
			known[l.Code] = true
		}
	}
	out := make([]store.ProfileLink, 0, len(in))
	for i, l := range in {
		f := func(name string) string { return fmt.Sprintf("links[%d].%s", i, name) }
		pl := store.ProfileLink{Code: l.Code, Thumbnail: l.Thumbnail, Enabled: l.Enabled == nil || *l.Enabled,
			Sensitive: l.Sensitive, Social: l.Social}
		var err error
		pl.URL, err = s.profileURL(l.URL)
		errs.add(f("url"), err)
		pl.Title, err = validate.Title(strings.TrimSpace(l.Title))
		if err == nil && pl.Title == "" && !l.Social {
			err = errors.New("is required (social links may leave it empty)")
		}
		errs.add(f("title"), err)
		errs.add(f("thumbnail"), s.checkImage(l.Thumbnail))
		if l.Code != "" && !known[l.Code] {
			errs.add(f("code"), errors.New("is not one of this profile's links; leave it out for a new link"))
		} else if l.Code != "" && seen[l.Code] {
			errs.add(f("code"), errors.New("appears twice"))
		}
		seen[l.Code] = true
		pl.StartsAt, err = optRFC3339(l.StartsAt)
		errs.add(f("startsAt"), err)
		pl.EndsAt, err = optRFC3339(l.EndsAt)
		errs.add(f("endsAt"), err)
		if pl.StartsAt != 0 && pl.EndsAt != 0 && pl.EndsAt <= pl.StartsAt {
			errs.add(f("endsAt"), errors.New("must be after startsAt"))
		}
		out = append(out, pl)
	}
	return out
}

// profileURL accepts what validate.URL accepts, plus mailto: and tel:
// links, which link-in-bio pages commonly carry.
func (s *Server) profileURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case strings.HasPrefix(strings.ToLower(raw), "mailto:"):
		a, err := mail.ParseAddress(raw[len("mailto:"):])
		if err != nil || a.Name != "" || len(raw) > maxEmailLen+7 {
			return "", errors.New("must be mailto: followed by one email address")
		}
		return "mailto:" + a.Address, nil
	case strings.HasPrefix(strings.ToLower(raw), "tel:"):
		num := raw[len("tel:"):]
		if len(num) < 3 || len(num) > 20 || strings.Trim(num, "+0123456789-. ()") != "" {
			return "", errors.New("must be tel: followed by a phone number")
		}
		return "tel:" + strings.NewReplacer(" ", "", "(", "", ")", "", ".", "").Replace(num), nil
	}
	return validate.URL(raw, s.selfHosts)
}

func optRFC3339(v *string) (int64, error) {
	if v == nil || *v == "" {
		return 0, nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return 0, errors.New("must be an RFC 3339 timestamp like 2030-01-02T15:04:05Z")
	}
	return t.UnixMilli(), nil
}

// boundedText trims s and checks its length and characters.
func boundedText(s string, max int, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return "", fmt.Errorf("must be at most %d characters of text", max)
	}
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n") // browsers send textarea lines as CRLF
	}
	if !controlFree(s, multiline) {
		return "", errors.New("must not contain control characters")
	}
	return s, nil
}

// checkImage accepts "" or the id of an uploaded image.
func (s *Server) checkImage(id string) error {
	if id == "" {
		return nil
	}
	raw, err := hex.DecodeString(id)
	if err == nil && len(raw) == sha256.Size {
		_, err = s.st.Image(raw)
	}
	if err != nil {
		return errors.New("is not the id of an uploaded image (POST /api/v1/images)")
	}
	return nil
}

// mintProfileCodes gives every new link a code: a link without a code
// keeps the code of the previous version's link with the same URL (so its
// clicks stay with it), otherwise it gets a fresh one.
func (s *Server) mintProfileCodes(c *fsm.SetProfile, prev *store.Profile) error {
	byURL := map[string][]string{}
	used := map[string]bool{}
	for _, l := range c.Links {
		used[l.Code] = l.Code != ""
	}
	if prev != nil {
		for _, l := range prev.Links {
			if !used[l.Code] {
				byURL[l.URL] = append(byURL[l.URL], l.Code)
			}
		}
		c.PageCode = prev.PageCode
	}
	for i := range c.Links {
		l := &c.Links[i]
		if l.Code != "" {
			continue
		}
		if codes := byURL[l.URL]; len(codes) > 0 {
			l.Code, byURL[l.URL] = codes[0], codes[1:]
			continue
		}
		code, err := s.mint()
		if err != nil {
			return err
		}
		l.Code = code
		c.NewCodes = append(c.NewCodes, code)
	}
	if c.PageCode == "" {
		code, err := s.mint()
		if err != nil {
			return err
		}
		c.PageCode = code
		c.NewCodes = append(c.NewCodes, code)
	}
	return nil
}

func (s *Server) mint() (string, error) {
	wctx, cancel := s.writeCtx()
	defer cancel()
	return s.cfg.Minter.Code(wctx)
}

// uploadImage serves POST /api/v1/images?kind=avatar|thumbnail|background
// with the image file as the body.
func (s *Server) uploadImage(ctx *fasthttp.RequestCtx, p principal) {
	kind, ok := imaging.Kinds[string(ctx.QueryArgs().Peek("kind"))]
	if !ok {
		writeProblem(ctx, probValidation, "Say what the image is for.",
			fieldError{Field: "kind", Message: "must be avatar, thumbnail or background"})
		return
	}
	img, err := s.storeImage(p, ctx.PostBody(), kind)
	s.answer(ctx, fasthttp.StatusCreated, img, err)
}

// imageJSON describes a stored image.
type imageJSON struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Type   string `json:"type"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// storeImage processes an upload and stores it under the hash of its
// re-encoded bytes (so the same image is stored once).
func (s *Server) storeImage(p principal, data []byte, kind imaging.Kind) (imageJSON, error) {
	res, err := imaging.Process(data, kind)
	if errors.Is(err, imaging.ErrTooLarge) {
		return imageJSON{}, fail(probTooLarge, "The image was not stored: "+err.Error()+".")
	} else if err != nil {
		return imageJSON{}, fail(probValidation, "The image was not stored: "+err.Error()+".",
			fieldError{Field: "image", Message: err.Error()})
	}
	sum := sha256.Sum256(res.Data)
	_, err = s.propose(&fsm.PutImage{Now: time.Now().UnixMilli(), ID: sum[:], Image: store.Image{Type: res.Type,
		Width: res.Width, Height: res.Height, Owner: p.owner(), CreatedAt: time.Now().UnixMilli(), Data: res.Data}})
	id := hex.EncodeToString(sum[:])
	return imageJSON{ID: id, URL: imageURL(id), Type: res.Type, Width: res.Width, Height: res.Height}, err
}

// imageURL is where an image is served; the id is its content hash, so the
// URL never changes meaning and can be cached forever.
func imageURL(id string) string { return "/_/img/" + id }

// serveImage serves /_/img/{id}.
func (s *Server) serveImage(ctx *fasthttp.RequestCtx, id string) {
	raw, err := hex.DecodeString(id)
	var img *store.Image
	if err == nil && len(raw) == sha256.Size {
		img, err = s.st.Image(raw)
	}
	if err != nil || img == nil {
		writePage(ctx, fasthttp.StatusNotFound, pageData{Title: "Not found", Message: "No such image."})
		return
	}
	h := &ctx.Response.Header
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+id+`"`)
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	if string(ctx.Request.Header.Peek("If-None-Match")) == `"`+id+`"` {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetContentType(img.Type)
	ctx.SetBody(img.Data)
}
