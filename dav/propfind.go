package dav

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// propfind answers PROPFIND depth 0 and 1, writing each response as soon
// as its entry is read: a directory of a million entries costs one batch
// of entries in memory, not a million. Depth infinity (and a missing Depth
// header, which means infinity) is refused as RFC 4918 allows, so no single
// request walks a whole snapshot.
func (h *handler) propfind(w http.ResponseWriter, r *http.Request, res *resource) {
	depth, ok := parseDepth(r.Header.Get("Depth"))
	if !ok {
		http.Error(w, "bad Depth header", http.StatusBadRequest)
		return
	}
	if depth < 0 {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, xml.Header+`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`+"\n")
		return
	}
	req, err := parsePropfind(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad PROPFIND body: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(xml.Header + `<D:multistatus xmlns:D="DAV:">`)
	writeResponse(bw, res, req)
	if depth == 1 && res.dir {
		err = h.tree.children(r.Context(), res, func(c *resource) error {
			writeResponse(bw, c, req)
			return nil
		})
	}
	if err != nil {
		// The status line is gone: cut the reply instead of closing a
		// multistatus that would look complete.
		panic(http.ErrAbortHandler)
	}
	bw.WriteString("</D:multistatus>\n")
	bw.Flush()
}

// parseDepth returns 0, 1, or -1 for infinity.
func parseDepth(s string) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0":
		return 0, true
	case "1":
		return 1, true
	case "", "infinity":
		return -1, true
	}
	return 0, false
}

// propReq is a parsed PROPFIND body.
type propReq struct {
	mode  int // allProp, propName or propList
	names []xml.Name
}

const (
	allProp = iota
	propName
	propList
)

var errPropfind = errors.New("want a DAV:propfind with one of prop, allprop, propname")

// parsePropfind reads a PROPFIND body; an empty one means allprop.
func parsePropfind(body io.Reader) (*propReq, error) {
	d := xml.NewDecoder(body)
	var root *xml.StartElement
	for root == nil {
		tok, err := d.Token()
		if err == io.EOF {
			return &propReq{mode: allProp}, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			root = &t
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) > 0 {
				return nil, errPropfind
			}
		}
	}
	if root.Name.Space != "DAV:" || root.Name.Local != "propfind" {
		return nil, errPropfind
	}
	var seen struct{ prop, all, names, include bool }
	req := &propReq{}
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement: // of propfind: the decoder checks nesting
			if err := drain(d); err != nil {
				return nil, err
			}
			switch {
			case seen.include && !seen.all, seen.all && (seen.prop || seen.names), seen.prop && seen.names,
				!seen.all && !seen.prop && !seen.names:
				return nil, errPropfind
			case seen.all:
				req.mode = allProp
			case seen.names:
				req.mode = propName
			default:
				req.mode = propList
			}
			return req, nil
		case xml.StartElement:
			if t.Name.Space != "DAV:" {
				if err := d.Skip(); err != nil { // an extension we do not know
					return nil, err
				}
				continue
			}
			switch t.Name.Local {
			case "prop", "include":
				if t.Name.Local == "prop" {
					seen.prop = true
				} else {
					seen.include = true
				}
				names, err := childNames(d)
				if err != nil {
					return nil, err
				}
				req.names = append(req.names, names...)
			case "allprop", "propname":
				if t.Name.Local == "allprop" {
					seen.all = true
				} else {
					seen.names = true
				}
				if err := d.Skip(); err != nil {
					return nil, err
				}
			default:
				if err := d.Skip(); err != nil {
					return nil, err
				}
			}
		}
	}
}

// drain checks that nothing but whitespace, comments and processing
// instructions follows the root element.
func drain(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return errPropfind
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) > 0 {
				return errPropfind
			}
		}
	}
}

// childNames returns the names of the child elements of the element just
// opened, skipping their contents, and consumes its end.
func childNames(d *xml.Decoder) ([]xml.Name, error) {
	var names []xml.Name
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			names = append(names, t.Name)
			if err := d.Skip(); err != nil {
				return nil, err
			}
		case xml.EndElement:
			return names, nil
		}
	}
}

// The live properties, in the order allprop and propname list them.
var (
	pResourceType  = xml.Name{Space: "DAV:", Local: "resourcetype"}
	pDisplayName   = xml.Name{Space: "DAV:", Local: "displayname"}
	pLastModified  = xml.Name{Space: "DAV:", Local: "getlastmodified"}
	pCreationDate  = xml.Name{Space: "DAV:", Local: "creationdate"}
	pContentLength = xml.Name{Space: "DAV:", Local: "getcontentlength"}
	pContentType   = xml.Name{Space: "DAV:", Local: "getcontenttype"}
	pETag          = xml.Name{Space: "DAV:", Local: "getetag"}

	dirProps  = []xml.Name{pResourceType, pDisplayName, pLastModified, pCreationDate}
	fileProps = []xml.Name{pResourceType, pDisplayName, pLastModified, pCreationDate, pContentLength, pContentType, pETag}
)

func liveProps(r *resource) []xml.Name {
	if r.dir {
		return dirProps
	}
	return fileProps
}

// value writes the value of property n of r and reports whether r has it.
func value(w *bufio.Writer, r *resource, n xml.Name) bool {
	if n.Space != "DAV:" {
		return false
	}
	switch n.Local {
	case "resourcetype":
		if r.dir {
			w.WriteString("<D:resourcetype><D:collection/></D:resourcetype>")
		} else {
			w.WriteString("<D:resourcetype/>")
		}
	case "displayname":
		w.WriteString("<D:displayname>")
		escape(w, r.name)
		w.WriteString("</D:displayname>")
	case "getlastmodified":
		w.WriteString("<D:getlastmodified>" + r.mtime.UTC().Format(http.TimeFormat) + "</D:getlastmodified>")
	case "creationdate":
		// Snapshots keep no birth time: the modification time is the
		// best creation date there is.
		w.WriteString("<D:creationdate>" + r.mtime.UTC().Format(time.RFC3339) + "</D:creationdate>")
	case "getcontentlength":
		if r.dir {
			return false
		}
		w.WriteString("<D:getcontentlength>" + strconv.FormatInt(r.size, 10) + "</D:getcontentlength>")
	case "getcontenttype":
		if r.dir {
			return false
		}
		w.WriteString("<D:getcontenttype>")
		escape(w, r.contentType())
		w.WriteString("</D:getcontenttype>")
	case "getetag":
		if r.dir {
			return false
		}
		w.WriteString("<D:getetag>")
		escape(w, r.etag)
		w.WriteString("</D:getetag>")
	default:
		return false
	}
	return true
}

// emptyElement writes <name/> with its namespace declared.
func emptyElement(w *bufio.Writer, n xml.Name) {
	switch n.Space {
	case "DAV:":
		w.WriteString("<D:" + n.Local + "/>")
	case "":
		w.WriteString("<" + n.Local + ` xmlns=""/>`)
	default:
		w.WriteString("<X:" + n.Local + ` xmlns:X="`)
		escapeAttr(w, n.Space)
		w.WriteString(`"/>`)
	}
}

// writeResponse writes one D:response for r.
func writeResponse(w *bufio.Writer, r *resource, req *propReq) {
	w.WriteString("<D:response><D:href>")
	w.WriteString(r.href()) // only unreserved characters and %XX
	w.WriteString("</D:href>")
	var missing []xml.Name
	switch req.mode {
	case propName:
		w.WriteString("<D:propstat><D:prop>")
		for _, n := range liveProps(r) {
			emptyElement(w, n)
		}
		w.WriteString("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
	case allProp:
		w.WriteString("<D:propstat><D:prop>")
		live := liveProps(r)
		for _, n := range live {
			value(w, r, n)
		}
		for _, n := range req.names { // DAV:include
			if !contains(live, n) {
				missing = append(missing, n)
			}
		}
		w.WriteString("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
	default:
		found := false
		for i, n := range req.names {
			if contains(req.names[:i], n) {
				continue
			}
			if !found {
				// Opened lazily: an empty D:prop in a 200 propstat
				// confuses some clients.
				if contains(liveProps(r), n) {
					w.WriteString("<D:propstat><D:prop>")
					found = true
				}
			}
			if !contains(liveProps(r), n) || !value(w, r, n) {
				missing = append(missing, n)
			}
		}
		if found {
			w.WriteString("</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>")
		}
	}
	if len(missing) > 0 {
		w.WriteString("<D:propstat><D:prop>")
		for _, n := range missing {
			emptyElement(w, n)
		}
		w.WriteString("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>")
	}
	w.WriteString("</D:response>")
}

func contains(list []xml.Name, n xml.Name) bool {
	for _, m := range list {
		if m == n {
			return true
		}
	}
	return false
}

// escape writes s as XML character data. Quotes stay as they are, so that
// a getetag reads like the ETag header; characters XML cannot carry become
// U+FFFD, as in xml.EscapeText. It allocates nothing: a depth 1 PROPFIND
// calls it a few times per entry.
func escape(w *bufio.Writer, s string) { escapeXML(w, s, false) }

// escapeAttr writes s for a double-quoted attribute value.
func escapeAttr(w *bufio.Writer, s string) { escapeXML(w, s, true) }

func escapeXML(w *bufio.Writer, s string, attr bool) {
	last := 0
	for i, r := range s {
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '"' && attr:
			esc = "&quot;"
		case r == '\n':
			esc = "&#xA;"
		case r == '\r':
			esc = "&#xD;"
		case r == '\t':
			esc = "&#x9;"
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"), !xmlChar(r):
			esc = "\uFFFD"
		default:
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		_, n := utf8.DecodeRuneInString(s[i:])
		last = i + n
	}
	w.WriteString(s[last:])
}

// xmlChar reports whether XML 1.0 allows r.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
