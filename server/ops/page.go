package ops

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// MailDomain is a name with MX records as the answers publish them now,
// for the status page.
type MailDomain struct {
	Name    string
	Publish string // mx_publish: healthy, all or primary
	MX      []MXStatus
	// Withdrawn counts the records of MX not published.
	Withdrawn int
}

// MXStatus is one MX record of a MailDomain.
type MXStatus struct {
	Preference uint16
	Host       string
	Published  bool
	Links      []string // the links that make Host reachable; none: always reachable
	Why        string   // why withdrawn, or why published though its links are down
	// Via is the addresses of Host a query arriving over each link gets,
	// for a published record.
	Via []ViaLink
}

// ViaLink is what a query arriving over one link ("" for none) is told.
type ViaLink struct {
	Link  string
	Addrs []string
}

// The page's bounds, so that ten thousand zones stay fast: rows beyond
// them are counted, and the filter finds them.
const (
	pageZoneRows    = 200
	pageMailRows    = 100
	pageFileRows    = 200
	pageWarningRows = 100
	pageFilterMax   = 253 // the longest name
)

//go:embed statuspage.html statuspage.css
var pageFiles embed.FS

var pageCSS = func() template.CSS {
	b, err := pageFiles.ReadFile("statuspage.css")
	if err != nil {
		panic(err) // embedded: missing only in a broken build
	}
	return template.CSS(b)
}()

var pageTemplate = template.Must(template.New("statuspage.html").Funcs(template.FuncMap{
	// css is the embedded style sheet, trusted: it is ours.
	"css": func() template.CSS { return pageCSS },
}).ParseFS(pageFiles, "statuspage.html"))

// pageHandler serves the status page: the view of p, rendered whole
// before a byte is sent, so that a failure is a 500 and not half a page.
func pageHandler(p Provider, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filter := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("zone")))
		if len(filter) > pageFilterMax {
			filter = filter[:pageFilterMax]
		}
		var b bytes.Buffer
		if err := pageTemplate.Execute(&b, buildPage(p, filter, time.Now())); err != nil {
			log.Error("admin: status page", "err", err)
			http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		// No script, no frame, nothing from elsewhere: the page needs
		// none, and says so to the browser.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if _, err := w.Write(b.Bytes()); err != nil {
			log.Debug("admin: write status page", "err", err)
		}
	})
}
