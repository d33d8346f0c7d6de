package ops

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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

// Profile is a profile as the API reads and writes it.
type Profile struct {
	Handle      string        `json:"handle"`
	DisplayName string        `json:"displayName"`
	Bio         string        `json:"bio"`
	Avatar      string        `json:"avatar,omitempty"`
	Theme       string        `json:"theme"`
	CustomTheme *CustomTheme  `json:"customTheme,omitempty"`
	Links       []ProfileLink `json:"links"`
	URL         string        `json:"url,omitempty"`      // response only
	PageCode    string        `json:"pageCode,omitempty"` // response only
	Views       *uint64       `json:"views,omitempty"`    // response only, owner's view
	UpdatedAt   string        `json:"updatedAt,omitempty"`
}

// CustomTheme is a profile's own colors, font, shape and background.
type CustomTheme struct {
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

// ProfileLink is one link of a profile.
type ProfileLink struct {
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
	Held      bool    `json:"held,omitempty"`     // response only, owner's view: waits for review, not public yet
}

// ProfileView renders a stored profile; owner adds counts and schedules.
func (o *Ops) ProfileView(p *store.Profile, owner bool) Profile {
	if !owner {
		p, _ = o.WithoutBlocked(p) // taken-down and held links vanish from the public view
	}
	v := Profile{Handle: p.Handle, DisplayName: p.DisplayName, Bio: p.Bio, Avatar: p.Avatar, Theme: p.Theme,
		URL: o.public + "/@" + p.Handle, Links: []ProfileLink{}, UpdatedAt: MsTime(p.UpdatedAt)}
	if c := p.Custom; c != (store.ThemeCustom{}) {
		v.CustomTheme = &CustomTheme{c.Background, c.Gradient, c.Text, c.Button, c.ButtonText, c.Accent, c.Font, c.Shape, c.BackgroundImage}
	}
	now := time.Now().UnixMilli()
	if owner {
		n, _ := o.st.Clicks(p.PageCode)
		v.Views, v.PageCode = &n, p.PageCode
	}
	for _, l := range p.Links {
		if !owner && !l.Visible(now) {
			continue
		}
		lj := ProfileLink{Code: l.Code, Title: l.Title, URL: l.URL, Thumbnail: l.Thumbnail, Sensitive: l.Sensitive,
			Social: l.Social, Platform: social.Detect(l.URL).ID, ShortURL: o.public + "/" + l.Code}
		if owner {
			enabled := l.Enabled
			n, _ := o.st.Clicks(l.Code)
			lj.Enabled, lj.Clicks, lj.Held = &enabled, &n, o.IsHeld(l.Code)
			lj.StartsAt, lj.EndsAt = optTime(l.StartsAt), optTime(l.EndsAt)
		}
		v.Links = append(v.Links, lj)
	}
	return v
}

// DroppedLinkGrace is how long a short link that a profile save drops
// (removed, or its URL replaced without its code) keeps redirecting before
// it expires (410). It must exceed how long a CDN may serve a cached copy
// of the page that still links to it (httpx.ProfileCacheControl: s-maxage
// plus stale-while-revalidate, 11 minutes), so no cached page points at a
// dead link; a test holds the two together.
const DroppedLinkGrace = 24 * time.Hour

// SaveProfile validates req, decides the codes of its links and replaces
// the principal's profile in one command (API and console editor).
func (o *Ops) SaveProfile(p Principal, req Profile) (*store.Profile, error) {
	prev, err := o.st.Profile(p.Owner())
	if errors.Is(err, store.ErrNotFound) {
		prev = nil
	} else if err != nil {
		return nil, err
	}
	now := time.Now()
	c, err := o.profileCommand(p.Owner(), req, prev, now)
	if err != nil {
		return nil, err
	}
	if err := o.mintProfileCodes(c, prev); err != nil {
		return nil, err
	}
	c.RetireAt = now.Add(DroppedLinkGrace).UnixMilli()
	c.Hold = o.held(p, now) // new profile links wait for review, as short links do
	res, err := o.propose(c)
	if err != nil {
		return nil, err
	}
	return res.Profile, nil
}

// profileCommand validates req into a command; codes are decided later.
func (o *Ops) profileCommand(user uint64, req Profile, prev *store.Profile, now time.Time) (*fsm.SetProfile, error) {
	var errs Fields
	c := &fsm.SetProfile{Now: now.UnixMilli(), User: user, Theme: req.Theme}
	var err error
	c.Handle, err = validate.Handle(req.Handle)
	errs.Add("handle", err)
	c.DisplayName, err = boundedText(req.DisplayName, maxDisplayName, false)
	errs.Add("displayName", err)
	c.Bio, err = boundedText(req.Bio, maxBio, true)
	errs.Add("bio", err)
	c.Avatar = req.Avatar
	errs.Add("avatar", o.checkImage(user, req.Avatar))
	if c.Theme == "" {
		c.Theme = theme.Builtin[0].ID
	}
	if ct := req.CustomTheme; ct != nil {
		c.Custom = store.ThemeCustom{Background: ct.Background, Gradient: ct.Gradient, Text: ct.Text, Button: ct.Button,
			ButtonText: ct.ButtonText, Accent: ct.Accent, Font: ct.Font, Shape: ct.Shape, BackgroundImage: ct.BackgroundImage}
		errs.Add("customTheme.backgroundImage", o.checkImage(user, ct.BackgroundImage))
	}
	for _, fe := range theme.Validate(c.Theme, ThemeCustom(c.Custom)) {
		errs = append(errs, FieldError{Field: fe.Field, Message: fe.Message})
	}
	if len(req.Links) > store.MaxProfileLinks {
		errs = append(errs, FieldError{Field: "links", Message: fmt.Sprintf("at most %d links; this has %d", store.MaxProfileLinks, len(req.Links))})
	} else {
		c.Links = o.profileLinks(user, req.Links, prev, &errs)
	}
	c.PageURL = o.public + "/@" + c.Handle
	// The command comes back with its errors: PreviewProfile shows what
	// is valid of a draft; SaveProfile saves nothing unless all of it is.
	return c, Invalid("The profile was not saved.", errs)
}

// PreviewProfile is the profile req would save, for the editor's live
// preview: validated as SaveProfile validates it, saving nothing, with
// fields that do not validate left as they came out (a half-typed URL
// shows as a link without a destination). New links have no code yet.
func (o *Ops) PreviewProfile(p Principal, req Profile) *store.Profile {
	prev, _ := o.st.Profile(p.Owner())
	c, _ := o.profileCommand(p.Owner(), req, prev, time.Now())
	pr := &store.Profile{Handle: c.Handle, DisplayName: c.DisplayName, Bio: c.Bio, Avatar: c.Avatar, Theme: c.Theme,
		Custom: c.Custom, Links: c.Links}
	if theme.Validate(pr.Theme, ThemeCustom(pr.Custom)) != nil {
		pr.Custom = store.ThemeCustom{BackgroundImage: pr.Custom.BackgroundImage} // a half-typed color
	}
	if o.checkImage(p.Owner(), pr.Avatar) != nil {
		pr.Avatar = ""
	}
	if o.checkImage(p.Owner(), pr.Custom.BackgroundImage) != nil {
		pr.Custom.BackgroundImage = ""
	}
	return pr
}

// ThemeCustom converts a stored custom theme for package theme.
func ThemeCustom(c store.ThemeCustom) theme.Custom {
	return theme.Custom{Background: c.Background, Gradient: c.Gradient, Text: c.Text, Button: c.Button,
		ButtonText: c.ButtonText, Accent: c.Accent, Font: c.Font, Shape: c.Shape}
}

// profileLinks validates the links; a given code must be one of the
// profile's links.
func (o *Ops) profileLinks(user uint64, in []ProfileLink, prev *store.Profile, errs *Fields) []store.ProfileLink {
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
		pl.URL, err = o.profileURL(l.URL)
		errs.Add(f("url"), err)
		pl.Title, err = validate.Title(strings.TrimSpace(l.Title))
		if err == nil && pl.Title == "" && !l.Social {
			err = errors.New("is required (social links may leave it empty)")
		}
		errs.Add(f("title"), err)
		errs.Add(f("thumbnail"), o.checkImage(user, l.Thumbnail))
		if l.Code != "" && !known[l.Code] {
			errs.Add(f("code"), errors.New("is not one of this profile's links; leave it out for a new link"))
		} else if l.Code != "" && seen[l.Code] {
			errs.Add(f("code"), errors.New("appears twice"))
		}
		seen[l.Code] = true
		pl.StartsAt, err = optRFC3339(l.StartsAt)
		errs.Add(f("startsAt"), err)
		pl.EndsAt, err = optRFC3339(l.EndsAt)
		errs.Add(f("endsAt"), err)
		if pl.StartsAt != 0 && pl.EndsAt != 0 && pl.EndsAt <= pl.StartsAt {
			errs.Add(f("endsAt"), errors.New("must be after startsAt"))
		}
		out = append(out, pl)
	}
	return out
}

// profileURL accepts what validate.URL accepts, plus mailto: and tel:
// links, which link-in-bio pages commonly carry (validate.LinkURL).
func (o *Ops) profileURL(raw string) (string, error) {
	u, err := validate.LinkURL(raw, o.selfHosts)
	if err != nil {
		return u, err
	}
	return u, o.notShortener(u)
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

// checkImage accepts "" or the id of an image user uploaded: a profile
// shows only images its user holds, so one user's account deletion or
// garbage collection never breaks another's page (images uploaded before
// uploads were recorded count for their first uploader).
func (o *Ops) checkImage(user uint64, id string) error {
	if id == "" {
		return nil
	}
	raw, err := hex.DecodeString(id)
	ok := false
	if err == nil && len(raw) == sha256.Size {
		if ok, err = o.st.HoldsImage(user, raw); err == nil && !ok {
			img, ierr := o.st.Image(raw)
			ok = ierr == nil && img.Owner == user
		}
	}
	if err != nil || !ok {
		return errors.New("is not the id of an image you uploaded (POST /api/v1/images)")
	}
	return nil
}

// mintProfileCodes gives every new link a code: a link without a code
// keeps the code of the previous version's link with the same URL (so its
// clicks stay with it), otherwise it gets a fresh one.
func (o *Ops) mintProfileCodes(c *fsm.SetProfile, prev *store.Profile) error {
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
		code, err := o.mint()
		if err != nil {
			return err
		}
		l.Code = code
		c.NewCodes = append(c.NewCodes, code)
	}
	if c.PageCode == "" {
		code, err := o.mint()
		if err != nil {
			return err
		}
		c.PageCode = code
		c.NewCodes = append(c.NewCodes, code)
	}
	return nil
}

// Image describes a stored image.
type Image struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Type   string `json:"type"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// StoreImage processes an upload and stores it under the hash of its
// re-encoded bytes (so the same image is stored once).
func (o *Ops) StoreImage(p Principal, data []byte, kind imaging.Kind) (Image, error) {
	res, err := imaging.Process(data, kind)
	if errors.Is(err, imaging.ErrTooLarge) {
		return Image{}, Fail(KindTooLarge, "The image was not stored: "+err.Error()+".")
	} else if errors.Is(err, imaging.ErrBusy) {
		return Image{}, Fail(KindUnavailable, "The image was not stored: "+err.Error()+".")
	} else if err != nil {
		return Image{}, Fail(KindValidation, "The image was not stored: "+err.Error()+".",
			FieldError{Field: "image", Message: err.Error()})
	}
	sum := sha256.Sum256(res.Data)
	_, err = o.propose(&fsm.UploadImage{Now: time.Now().UnixMilli(), User: p.Owner(), ID: sum[:], MIME: res.Type,
		Width: res.Width, Height: res.Height, Data: res.Data, Quota: o.quota})
	if errors.Is(err, fsm.ErrUploadQuota) {
		return Image{}, Fail(KindValidation, fmt.Sprintf("The image was not stored: your images would take more than %d MiB. "+
			"Images no longer on your profile are freed a day after their upload, on your next upload.", o.quota>>20),
			FieldError{Field: "image", Message: "upload quota exceeded"})
	}
	id := hex.EncodeToString(sum[:])
	return Image{ID: id, URL: ImageURL(id), Type: res.Type, Width: res.Width, Height: res.Height}, err
}

// ImageURL is where an image is served; the id is its content hash, so the
// URL never changes meaning and can be cached forever.
func ImageURL(id string) string { return "/_/img/" + id }

// ImageByID reads an uploaded image by its hex id; ok is false for an
// unknown or malformed id.
func (o *Ops) ImageByID(id string) (*store.Image, bool) {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != sha256.Size {
		return nil, false
	}
	img, err := o.st.Image(raw)
	return img, err == nil && img != nil
}

// ProfileByHandle reads the profile with this handle (any case).
func (o *Ops) ProfileByHandle(handle string) (*store.Profile, error) {
	p, err := o.st.ProfileByHandle(strings.ToLower(handle))
	if errors.Is(err, store.ErrNotFound) {
		return nil, Fail(KindNotFound, "No profile with that handle.")
	}
	return p, err
}

// OwnProfile reads the principal's profile.
func (o *Ops) OwnProfile(p Principal) (*store.Profile, error) {
	prof, err := o.st.Profile(p.Owner())
	if errors.Is(err, store.ErrNotFound) {
		return nil, Fail(KindNotFound, "You have no profile yet; create it with PUT /api/v1/profile.")
	}
	return prof, err
}
