package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"bytes":   humanBytes,
	"time":    fmtTime,
	"mode":    func(m fs.FileMode) string { return m.String() },
	"snapURL": snapURL,
	"query":   url.QueryEscape,
	"pathEsc": url.PathEscape,
	"add":     func(a, b int) int { return a + b },
	"show":    show,
	"dur":     func(d time.Duration) string { return d.Round(time.Millisecond).String() },
}

// parsePages parses every page with the shared layout; a broken template
// is a programming error caught by any test.
func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "error", "snapshots", "dir", "file", "job", "diff"} {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
		pages[name] = t
	}
	return pages
}

// render executes a page into memory first, so that a template error
// becomes a 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, code int, page string, data map[string]any) {
	v := visitorOf(r)
	if data == nil {
		data = map[string]any{}
	}
	data["User"] = v.user
	data["CSRF"] = v.csrf
	data["LoggedIn"] = v.user != ""
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		s.log.Error("template", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func humanBytes(n any) string {
	var v float64
	switch x := n.(type) {
	case int64:
		v = float64(x)
	case uint64:
		v = float64(x)
	case int:
		v = float64(x)
	case float64:
		v = x
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// show makes control characters in names visible ("\n" as ␤): a name
// with a newline must not look like two names.
func show(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return '␤'
		case r < 0x20 || r == 0x7f:
			return '�'
		}
		return r
	}, s)
}
