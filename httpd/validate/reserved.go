package validate

import "strings"

// reservedWords may be neither aliases nor handles: they are, or may
// become, routes of the service, or would mislead visitors. Keep it sorted
// (a test checks); it is only read after package initialisation.
var reservedWords = []string{
	".well-known",
	"_",
	"about",
	"abuse",
	"account",
	"admin",
	"ads.txt",
	"analytics",
	"api",
	"app",
	"apple-app-site-association",
	"assets",
	"auth",
	"billing",
	"blog",
	"bulk",
	"console",
	"contact",
	"dashboard",
	"delete",
	"docs",
	"edit",
	"export",
	"favicon.ico",
	"health",
	"healthz",
	"help",
	"home",
	"hostmaster",
	"humans.txt",
	"index",
	"l",
	"link",
	"linkd",
	"links",
	"login",
	"logout",
	"mail",
	"manifest.json",
	"me",
	"metrics",
	"new",
	"null",
	"oauth",
	"p",
	"postmaster",
	"preview",
	"pricing",
	"privacy",
	"profile",
	"profiles",
	"qr",
	"readyz",
	"register",
	"report",
	"robots.txt",
	"root",
	"s",
	"security",
	"security.txt",
	"settings",
	"signin",
	"signout",
	"signup",
	"sitemap.xml",
	"static",
	"stats",
	"status",
	"support",
	"system",
	"terms",
	"u",
	"undefined",
	"user",
	"users",
	"webmaster",
	"well-known",
	"www",
}

var reserved = func() map[string]struct{} {
	m := make(map[string]struct{}, len(reservedWords))
	for _, w := range reservedWords {
		m[w] = struct{}{}
	}
	return m
}()

// Reserved reports whether s is a reserved word, case-insensitively.
func Reserved(s string) bool {
	_, ok := reserved[strings.ToLower(s)]
	return ok
}
