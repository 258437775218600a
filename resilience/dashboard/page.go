package dashboard

import (
	_ "embed"
	"net/http"
	"strings"
)

// The page is kept in three files for editing and served as one, its
// style and script inline, so it loads nothing else and works offline.
var (
	//go:embed page/index.html
	pageHTML string
	//go:embed page/style.css
	pageCSS string
	//go:embed page/app.js
	pageJS string

	page = []byte(strings.NewReplacer("/*STYLE*/", pageCSS, "/*SCRIPT*/", pageJS).Replace(pageHTML))
)

// contentPolicy lets the page run its inline style and script and talk to
// its own origin, and nothing else: no CDN could sneak back in unnoticed.
const contentPolicy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"

func (d *Dashboard) servePage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentPolicy)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(d.page)
}
