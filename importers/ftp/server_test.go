package ftp_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ftpimporter "github.com/plakar-gw/plakar-gw/importers/ftp"
)

// The tests in this file need a real FTP server. scripts/it/importers.sh
// starts vsftpd and sets:
//
//	PLAKAR_GW_TEST_FTP      ftp://user:password@127.0.0.1:PORT (the server's root)
//	PLAKAR_GW_TEST_FTP_DIR  the local folder the server serves as its root
//
// The tests write their trees under that folder.
const itScript = "scripts/it/importers.sh"

type server struct {
	url string // no trailing slash
	dir string
}

func realServer(t *testing.T) server {
	t.Helper()
	u, dir := os.Getenv("PLAKAR_GW_TEST_FTP"), os.Getenv("PLAKAR_GW_TEST_FTP_DIR")
	if u == "" || dir == "" {
		t.Skipf("no FTP server: PLAKAR_GW_TEST_FTP and PLAKAR_GW_TEST_FTP_DIR are set by %s, which starts vsftpd", itScript)
	}
	return server{url: strings.TrimSuffix(u, "/"), dir: dir}
}

// tree makes a fresh folder on the server, readable by the server's
// unprivileged session user, and returns its local path and its URL.
func (s server) tree(t *testing.T) (string, string) {
	t.Helper()
	dir, err := os.MkdirTemp(s.dir, "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, s.url + "/" + url.PathEscape(filepath.Base(dir))
}

func open(t *testing.T, cfg ftpimporter.Config) *ftpimporter.Importer {
	t.Helper()
	imp, err := ftpimporter.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { imp.Close() })
	return imp
}

func passwordOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}
