package webui

import (
	"mime"
	"testing"
	"unicode/utf8"
)

// FuzzContentDisposition: every name comes back exactly from the header
// a standard parser reads, and the ASCII fallback is a valid quoted string.
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"a.txt", "ファイル.txt", "a%20b?c=d&e#f+g", "new\nline", `q"uo\te`, "e\u0301", " sp ", "%+#?&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) || name == "" {
			return
		}
		h := contentDisposition("attachment", name)
		kind, params, err := mime.ParseMediaType(h)
		if err != nil || kind != "attachment" || params["filename"] != name {
			t.Fatalf("%q: %q parses as %q %q (%v)", name, h, kind, params, err)
		}
	})
}
