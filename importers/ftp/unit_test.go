package ftp_test

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/importers"
	ftpimporter "github.com/plakar-gw/plakar-gw/importers/ftp"
)

func describe(recs map[string]importers.Record) []string {
	var out []string
	for p, r := range recs {
		s := p
		switch {
		case r.Mode.IsDir():
			s += "/"
		case r.Mode.Type() == iofs.ModeSymlink:
			s += " -> " + r.Target
		default:
			s += " " + time.Duration(r.Size).String()
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestMLSD: a server offering MLST is listed with MLSD (exact sizes and
// times, cdir/pdir entries dropped, no MDTM needed).
func TestMLSD(t *testing.T) {
	s := &fakeServer{t: t, mlsd: true,
		listings: map[string]string{
			"/": "type=cdir;modify=20240101000000; .\r\n" +
				"type=pdir;modify=20240101000000; ..\r\n" +
				"type=file;size=12;modify=20230405060708; hello world.txt\r\n" +
				"type=dir;modify=20230405060708; sub\r\n",
			"/sub": "type=file;size=3;modify=20220101120000.123; x\r\n",
		},
		files: map[string]string{"/hello world.txt": "hello world\n", "/sub/x": "xyz"}}
	imp := open(t, ftpimporter.Config{URL: s.start()})
	recs := scanAll(t, imp)
	want := []string{"//", "/hello world.txt 12ns", "/sub/", "/sub/x 3ns"}
	if got := describe(recs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if m := recs["/hello world.txt"].ModTime; !m.Equal(time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)) {
		t.Errorf("mtime %v, want MLSD's 2023-04-05 06:07:08", m)
	}
	readAll(t, imp, "/hello world.txt", "hello world\n")
}

// TestDOSListing: a LIST in MS-DOS format (IIS), with MDTM for the times.
func TestDOSListing(t *testing.T) {
	s := &fakeServer{t: t,
		listings: map[string]string{
			"/": "04-27-23  09:40PM       <DIR>          My Documents\r\n" +
				"10-03-22  11:02AM                 1536 report 2022.doc\r\n",
			"/My Documents": "01-02-2024  15:04                    5 a.txt\r\n",
		},
		files: map[string]string{"/report 2022.doc": strings.Repeat("r", 1536), "/My Documents/a.txt": "aaaaa"}}
	imp := open(t, ftpimporter.Config{URL: s.start()})
	recs := scanAll(t, imp)
	want := []string{"//", "/My Documents/", "/My Documents/a.txt 5ns", "/report 2022.doc 1.536µs"}
	if got := describe(recs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if m := recs["/report 2022.doc"].ModTime; !m.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("mtime %v, want MDTM's", m)
	}
	readAll(t, imp, "/My Documents/a.txt", "aaaaa")
}

// TestUnixListing: LIST as vsftpd and ProFTPD print it: symlinks as links,
// hidden files, a directory refused (550) is a per-path error.
func TestUnixListing(t *testing.T) {
	s := &fakeServer{t: t,
		listings: map[string]string{
			"/": "total 12\r\n" +
				"drwxr-xr-x    2 0        0            4096 Nov 26 04:00 .\r\n" +
				"-rw-r--r--    1 ftp      ftp             2 Nov 26 04:00 .hid\r\n" +
				"lrwxrwxrwx    1 ftp      ftp             5 Nov 26 04:00 link -> a b\r\n" +
				"-rw-r--r--    1 ftp      ftp             3 Apr  7  2003 a b\r\n" +
				"drwx------    2 ftp      ftp          4096 Apr  7  2003 locked\r\n",
		},
		files: map[string]string{"/.hid": "h\n", "/a b": "abc"}}
	imp := open(t, ftpimporter.Config{URL: s.start()})
	recs := scanAll(t, imp)
	want := []string{"/.hid 2ns", "//", "/a b 3ns", "/link -> a b", "/locked/"}
	if got := describe(recs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if recs["/locked"].Err == nil {
		t.Error("/locked: no error although the server refused to list it")
	}
	for p, r := range recs {
		if p != "/locked" && r.Err != nil {
			t.Errorf("%s: %v", p, r.Err)
		}
	}
}

// TestResumeAfterDrop: the connection drops twice in the middle of a file;
// the file is read whole, resumed with REST where it stopped.
func TestResumeAfterDrop(t *testing.T) {
	content := strings.Repeat("0123456789", 1000)
	s := &fakeServer{t: t, listings: map[string]string{"/": ""},
		files:    map[string]string{"/f": content},
		dropPath: "/f", dropAfter: 4000, drops: 2}
	imp := open(t, ftpimporter.Config{URL: s.start(), Retries: 3})
	readAll(t, imp, "/f", content)
	if want := []string{"/f@0", "/f@4000", "/f@8000"}; !slices.Equal(s.retrs, want) {
		t.Errorf("RETRs %q, want %q", s.retrs, want)
	}
}

// TestGiveUpAfterRetries: a file that keeps dropping fails after the
// retries, with an error (not a short read passed off as the whole file).
func TestGiveUpAfterRetries(t *testing.T) {
	s := &fakeServer{t: t, listings: map[string]string{"/": ""},
		files:    map[string]string{"/f": strings.Repeat("x", 100)},
		dropPath: "/f", dropAfter: 10, drops: 100}
	imp := open(t, ftpimporter.Config{URL: s.start(), Retries: 2})
	rc, err := imp.Open(t.Context(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err == nil {
		t.Fatalf("read %d bytes without an error", len(b))
	}
	if len(s.retrs) != 3 {
		t.Errorf("%d RETRs, want 3 (1 + 2 retries)", len(s.retrs))
	}
}

func TestMissingFile(t *testing.T) {
	s := &fakeServer{t: t, listings: map[string]string{"/": ""}, files: map[string]string{}}
	imp := open(t, ftpimporter.Config{URL: s.start()})
	if _, err := imp.Open(t.Context(), "/nope"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Open(/nope) = %v; want fs.ErrNotExist", err)
	}
}

func readAll(t *testing.T, imp *ftpimporter.Importer, p, want string) {
	t.Helper()
	rc, err := imp.Open(t.Context(), p)
	if err != nil {
		t.Fatalf("Open(%s): %v", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != want {
		t.Errorf("%s: %d bytes, %v; want %d bytes", p, len(b), err, len(want))
	}
}

// TestConfig: the origin never holds the password, whatever its source,
// and bad settings are refused before dialing.
func TestConfig(t *testing.T) {
	s := &fakeServer{t: t, listings: map[string]string{"/": ""}, files: map[string]string{}}
	u := s.start() // ftp://user:pass@127.0.0.1:PORT
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := open(t, ftpimporter.Config{URL: u + "/some/dir", PasswordFile: pwFile})
	if o := imp.Origin(); strings.Contains(o, "pass") || !strings.HasPrefix(o, "ftp://user@127.0.0.1:") || !strings.HasSuffix(o, "/some/dir") {
		t.Errorf("Origin() = %q", o)
	}
	for _, cfg := range []ftpimporter.Config{
		{URL: "http://host/"},
		{URL: "ftp:///nohost"},
		{URL: "ftp://host:99999/"},
		{URL: "ftp://host/?q=1"},
		{URL: "ftp://host/", CAFile: "ca.pem"},
		{URL: "ftp://host/", InsecureSkipVerify: true},
		{URL: "ftps://host/", CAFile: filepath.Join(t.TempDir(), "missing.pem")},
		{URL: "ftp://user:secret@host/%zz"},
	} {
		imp, err := ftpimporter.New(t.Context(), cfg)
		if err == nil {
			imp.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("New(%+v): error %q shows the password", cfg, err)
		}
	}
}
