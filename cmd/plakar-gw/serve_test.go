package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

// server is a plakar-gw serve subprocess and the addresses it printed.
type server struct {
	cmd    *exec.Cmd
	addrs  map[string]string // "s3", "webdav", "metrics" -> host:port
	stderr *bytes.Buffer
	done   chan error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "plakar-gw")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startServe starts serve with every listener and waits for the
// addresses it prints.
func startServe(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	return startServeArgs(t, bin, []string{"s3", "webdav", "metrics"}, append(args, "serve")...)
}

// startServeArgs runs bin with args and waits until it printed the
// address of every listener in want.
func startServeArgs(t *testing.T, bin string, want []string, args ...string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(bin, args...), addrs: map[string]string{}, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd.Stderr = s.stderr
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- s.cmd.Wait()
	}()
	re := regexp.MustCompile(`^(S3 API|WebDAV|Web UI|Metrics):\s+https?://([^/\s]+)`)
	names := map[string]string{"S3 API": "s3", "WebDAV": "webdav", "Web UI": "ui", "Metrics": "metrics"}
	deadline := time.After(30 * time.Second)
	for len(s.addrs) < len(want) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s", s.stderr)
			}
			if m := re.FindStringSubmatch(l); m != nil {
				s.addrs[names[m[1]]] = m[2]
			}
		case <-deadline:
			t.Fatalf("serve did not print its addresses in 30 s:\n%s", s.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return s
}

func s3Client(addr, key, secret string) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String("http://" + addr), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

func buckets(t *testing.T, c *s3.Client) map[string]bool {
	t.Helper()
	out, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	m := map[string]bool{}
	for _, b := range out.Buckets {
		m[aws.ToString(b.Name)] = true
	}
	return m
}

// davRoot lists the WebDAV root as user/password.
func davRoot(t *testing.T, addr, user, pass string) string {
	t.Helper()
	req, _ := http.NewRequest("PROPFIND", "http://"+addr+"/", nil)
	req.Header.Set("Depth", "1")
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND / as %s: %s\n%s", user, resp.Status, b)
	}
	return string(b)
}

func davGet(addr, path, user, pass string) (int, []byte) {
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// uiLogin logs into the web UI and returns a client holding the session.
func uiLogin(t *testing.T, addr, user, pass string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := uiGet(t, c, "http://"+addr+"/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("no CSRF token in the login page:\n%s", form)
	}
	resp, err := c.PostForm("http://"+addr+"/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {pass}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login as %s: %s", user, resp.Status)
	}
	return c
}

func uiGet(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, b)
	}
	return string(b)
}

// eventually retries f until it returns nil or the time is up.
func eventually(t *testing.T, within time.Duration, what string, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < within {
		if err = f(); err == nil {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %v", what, within, err)
	return 0
}

func metricValue(t *testing.T, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, series) {
			f := strings.Fields(l)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				total += v
			}
		}
	}
	return total
}

// exampleConfig is config.example.yaml with its paths and addresses
// adjusted for a test, as a user would adjust them.
func exampleConfig(t *testing.T, repo, source, secretFile string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range [][2]string{
		{"path: /srv/plakar-gw/repo", "path: " + repo},
		{"addr: 127.0.0.1:9000", "addr: 127.0.0.1:0"},
		{"addr: 127.0.0.1:9001", "addr: 127.0.0.1:0"},
		{"enabled: false\n    addr: 127.0.0.1:9002", "enabled: true\n    addr: 127.0.0.1:0"},
		{"addr: 127.0.0.1:9003", "addr: 127.0.0.1:0"},
		{"secret_access_key_file: /etc/plakar-gw/reader.secret", "secret_access_key_file: " + secretFile},
		{"source: /home", "source: " + source},
		{`schedule: "0 3 * * *"`, `schedule: "2s"`},
		{"keep_last: 3", "keep_last: 2"},
		{"shutdown_timeout: 30s", "shutdown_timeout: 60s"},
	} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("config.example.yaml no longer has %q; update this test", r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	return s
}

// TestServeEndToEnd runs serve from config.example.yaml (paths and
// addresses adjusted) as a subprocess: the S3, WebDAV, web UI and metrics
// listeners at once; the scheduled job's snapshots and another process's
// appear on S3 and WebDAV within 5 s; the example's user limited to one
// job sees nothing else on either; the metrics move; SIGTERM in the middle
// of a large download lets it finish and exits 0.
func TestServeEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	c := newCLI(t)
	bigSize := 64 << 20
	if testing.Short() {
		bigSize = 16 << 20
	}
	docs := filepath.Join(c.dir, "docs")
	if err := enginetest.WriteFile(filepath.Join(docs, "readme.txt"), []byte("docs job\n")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(c.dir, "other")
	big := enginetest.RandData(9, bigSize)
	if err := enginetest.WriteFile(filepath.Join(other, "big.bin"), big); err != nil {
		t.Fatal(err)
	}
	c.ok("init")
	secretFile := filepath.Join(c.dir, "reader.secret")
	if err := os.WriteFile(secretFile, []byte("readersecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(c.dir, "serve.yaml")
	if err := os.WriteFile(cfg, []byte(exampleConfig(t, c.repo, docs, secretFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The unrestricted key pair of the environment is the admin.
	t.Setenv("PLAKAR_GW_ACCESS_KEY_ID", "ADMINKEY")
	t.Setenv("PLAKAR_GW_SECRET_ACCESS_KEY", "adminsecret")
	srv := startServeArgs(t, bin, []string{"s3", "webdav", "ui", "metrics"}, "--config", cfg, "serve")
	admin := s3Client(srv.addrs["s3"], "ADMINKEY", "adminsecret")
	limited := s3Client(srv.addrs["s3"], "PGWEXAMPLEKEYID00000", "readersecret")

	// The scheduled job's snapshot shows on both frontends.
	eventually(t, 15*time.Second, "scheduled job docs on S3", func() error {
		if !buckets(t, admin)["home-latest"] {
			return errors.New("no bucket home-latest")
		}
		return nil
	})
	if !strings.Contains(davRoot(t, srv.addrs["webdav"], "ADMINKEY", "adminsecret"), "home-latest") {
		t.Error("home-latest not in the WebDAV root")
	}

	// A snapshot made by another process shows within 5 s.
	c.ok("ingest", "--job", "other", other)
	took := eventually(t, 5*time.Second, "ingest from another process on S3", func() error {
		if !buckets(t, admin)["other-latest"] {
			return errors.New("no bucket other-latest")
		}
		return nil
	})
	t.Logf("new snapshot visible on S3 after %v", took)
	eventually(t, 5*time.Second, "ingest from another process on WebDAV", func() error {
		if !strings.Contains(davRoot(t, srv.addrs["webdav"], "ADMINKEY", "adminsecret"), "other-latest") {
			return errors.New("no folder other-latest")
		}
		return nil
	})

	// The example's reader sees only the home job, on both frontends.
	lb := buckets(t, limited)
	if !lb["home-latest"] || lb["other-latest"] {
		t.Errorf("limited user's buckets: %v", lb)
	}
	for b := range lb {
		if b != "home-latest" && !strings.HasPrefix(b, "snap-") {
			t.Errorf("limited user sees bucket %s", b)
		}
	}
	if _, err := limited.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("other-latest"), Key: aws.String("big.bin")}); err == nil {
		t.Error("limited user read other-latest/big.bin over S3")
	}
	root := davRoot(t, srv.addrs["webdav"], "reader", "example password")
	if strings.Contains(root, "other-latest") || !strings.Contains(root, "home-latest") {
		t.Errorf("limited user's WebDAV root:\n%s", root)
	}
	if code, _ := davGet(srv.addrs["webdav"], "/other-latest/big.bin", "reader", "example password"); code != http.StatusNotFound {
		t.Errorf("limited user GET /other-latest/big.bin over WebDAV: %d", code)
	}
	if code, b := davGet(srv.addrs["webdav"], "/home-latest/readme.txt", "reader", "example password"); code != 200 || string(b) != "docs job\n" {
		t.Errorf("limited user GET home-latest/readme.txt: %d %q", code, b)
	}
	// A user's password is not another's: the reader's password with the
	// admin's name fails.
	req, _ := http.NewRequest("PROPFIND", "http://"+srv.addrs["webdav"]+"/", nil)
	req.SetBasicAuth("ADMINKEY", "example password")
	req.Header.Set("Depth", "0")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin with the wrong password: %v %v", resp.Status, err)
	}

	// The web UI: the reader logs in and sees only the home job's snapshots.
	ui := uiLogin(t, srv.addrs["ui"], "reader", "example password")
	page := uiGet(t, ui, "http://"+srv.addrs["ui"]+"/")
	if !strings.Contains(page, "home") || strings.Contains(page, "other-latest") || strings.Contains(page, ">other<") {
		t.Errorf("the reader's snapshot page in the web UI:\n%s", page)
	}
	if resp, err := ui.Get("http://" + srv.addrs["ui"] + "/raw/other-latest/big.bin"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the reader fetched other-latest/big.bin from the web UI: %v %v", resp.Status, err)
	}

	// Metrics moved.
	if v := metricValue(t, srv.addrs["metrics"], `plakar_gw_requests_total{code="200",frontend="s3"`); v < 3 {
		t.Errorf("s3 requests counted: %v", v)
	}
	if v := metricValue(t, srv.addrs["metrics"], `plakar_gw_job_runs_total{job="home",result="ok"}`); v < 1 {
		t.Errorf("job runs counted: %v", v)
	}
	if v := metricValue(t, srv.addrs["metrics"], `plakar_gw_cache_lookups_total{cache="tree"`); v < 1 {
		t.Errorf("tree cache lookups counted: %v", v)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, err := http.Get("http://" + srv.addrs["metrics"] + p); err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, resp, err)
		}
	}

	// SIGTERM during a large download: the download completes, intact,
	// and serve exits 0.
	obj, err := admin.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("other-latest"), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, obj.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := http.Get("http://" + srv.addrs["metrics"] + "/healthz"); err == nil {
		t.Error("still accepting connections after SIGTERM")
	}
	n, err := io.Copy(h, obj.Body)
	obj.Body.Close()
	if err != nil || n != int64(bigSize-(1<<20)) {
		t.Fatalf("download after SIGTERM: %d bytes, %v", n, err)
	}
	if want := sha256.Sum256(big); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("download after SIGTERM: wrong bytes")
	}
	select {
	case err := <-srv.done:
		srv.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("serve exit after SIGTERM: %v\n%s", err, srv.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit 30 s after SIGTERM:\n%s", srv.stderr)
	}
	if !strings.Contains(srv.stderr.String(), "log=access") {
		t.Errorf("no access log lines on stderr:\n%s", srv.stderr)
	}
	if !regexp.MustCompile(`frontend=ui method=GET path=/ status=200 .* user=reader`).MatchString(srv.stderr.String()) {
		t.Errorf("no access log line naming the web UI's user:\n%s", srv.stderr)
	}
}
