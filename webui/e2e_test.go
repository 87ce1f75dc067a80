package webui_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/plakar-gw/plakar-gw/webui"
)

// chromiumPath finds the browser; CI installs Debian's chromium
// (scripts/deps.sh), so its absence fails the test unless
// PLAKAR_GW_NO_BROWSER says to skip.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PLAKAR_GW_NO_BROWSER") != "" {
		t.Skip("no chromium and PLAKAR_GW_NO_BROWSER is set: the browser tests do not run")
	}
	t.Fatal("chromium is not installed (scripts/deps.sh installs it); set PLAKAR_GW_NO_BROWSER=1 to skip the browser tests")
	return ""
}

// newBrowser starts a headless chromium with a fresh profile. The flags
// keep it from calling home: the machine's network is closed and chromium
// hangs on connections it cannot make.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	return ctx
}

// artifactsDir is where the screenshots stay after the test:
// $PLAKAR_GW_ARTIFACTS or artifacts/webui at the repository root.
func artifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PLAKAR_GW_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "artifacts")
	}
	dir = filepath.Join(dir, "webui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// download runs click, waits for the download it starts, and returns the
// name the browser was told and the bytes it saved.
func download(t *testing.T, ctx context.Context, dir string, click chromedp.Action[chromedp.Void]) (string, []byte) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	begin := chromedp.Events(wctx, browser.DownloadWillBegin)
	progress := chromedp.Events(wctx, browser.DownloadProgress)
	do(t, ctx, "start a download", click)
	var name, guid string
	for ev, err := range begin {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		name, guid = ev.SuggestedFilename, ev.GUID
		break
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download of %s: %v", name, err)
		}
		if ev.GUID != guid {
			continue
		}
		switch ev.State {
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("download of %s canceled", name)
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, guid))
			if err != nil {
				t.Fatal(err)
			}
			return name, b
		}
	}
	t.Fatalf("download of %s did not complete", name)
	return "", nil
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// TestBrowser is the acceptance walk in headless Chromium over a real
// repository: log in, open a snapshot and nested directories with unicode
// names, download a file and a selection as zip and compare them with the
// source, see an ingest error and the job chart, and keep a screenshot of
// every page.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	art := artifactsDir(t)
	fx := newRealFixture(t, 2<<20)
	srv := httptest.NewServer(webui.New(fx.repo, webui.Options{Users: map[string][]byte{"ui-user": hash(t, "ui-pass")}}))
	defer srv.Close()
	dl := t.TempDir()
	snap := fx.snaps[0]

	do(t, ctx, "open the UI", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login-button")))
	screenshot(t, ctx, art, "01-login.png")
	do(t, ctx, "log in",
		chromedp.SendKeys(chromedp.CSS("#user-field"), "ui-user"),
		chromedp.SendKeys(chromedp.CSS("#password-field"), "ui-pass"),
		chromedp.Click(chromedp.CSS("#login-button")),
		chromedp.WaitVisible(chromedp.CSS("#snapshots")))
	if got := text(t, ctx, "#user"); got != "ui-user" {
		t.Errorf("logged in as %q", got)
	}
	screenshot(t, ctx, art, "02-snapshots.png")

	do(t, ctx, "open the snapshot",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-id="%s"] a.snap-link`, snap.ID))),
		chromedp.WaitVisible(chromedp.CSS("#entries")))
	screenshot(t, ctx, art, "03-snapshot.png")
	for _, dir := range []string{"nested", "a", "b"} {
		do(t, ctx, "open "+dir,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-name="%s"] td.name a`, dir))),
			chromedp.WaitVisible(chromedp.CSS(`#breadcrumb a[href$="/`+dir+`"]`)))
	}
	screenshot(t, ctx, art, "04-nested.png")

	do(t, ctx, "back to the root and into 日本語",
		chromedp.Click(chromedp.CSS("#breadcrumb a:first-child")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="日本語"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-name="日本語"] td.name a`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="ファイル.txt"]`)))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if want := "/s/" + snap.ShortID() + "/%E6%97%A5%E6%9C%AC%E8%AA%9E"; !strings.HasSuffix(loc, want) {
		t.Errorf("location %s, want …%s", loc, want)
	}
	screenshot(t, ctx, art, "05-unicode-dir.png")

	_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: ptr(true)})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	name, got := download(t, ctx, dl, chromedp.Click(chromedp.CSS(`tr[data-name="ファイル.txt"] a.dl`)))
	want, _ := os.ReadFile(filepath.Join(fx.src, "日本語", "ファイル.txt"))
	if name != "ファイル.txt" || !bytes.Equal(got, want) {
		t.Errorf("download: %q, %q; want %q, %q", name, got, "ファイル.txt", want)
	}
	do(t, ctx, "open the file page",
		chromedp.Click(chromedp.CSS(`tr[data-name="ファイル.txt"] td.name a`)),
		chromedp.WaitVisible(chromedp.CSS("#text-preview")))
	if got := text(t, ctx, "#text-preview"); got != string(want) {
		t.Errorf("preview %q, want %q", got, want)
	}
	screenshot(t, ctx, art, "06-file.png")

	// Two files and a directory, by their checkboxes.
	do(t, ctx, "select two files and a directory",
		chromedp.Navigate(srv.URL+"/s/"+snap.ShortID()+"/"),
		chromedp.WaitVisible(chromedp.CSS("#entries")),
		chromedp.Click(chromedp.CSS(`tr[data-name="hard1"] input.sel`)),
		chromedp.Click(chromedp.CSS(`tr[data-name="%+#?&"] input.sel`)),
		chromedp.Click(chromedp.CSS(`tr[data-name="dir with spaces"] input.sel`)))
	screenshot(t, ctx, art, "07-selection.png")
	name, got = download(t, ctx, dl, chromedp.Click(chromedp.CSS("#select-zip")))
	if want := "snapshot-" + snap.ShortID() + "-selection.zip"; name != want {
		t.Errorf("selection saved as %q, want %q", name, want)
	}
	zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatalf("the selection is not a zip: %v", err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(b)
	}
	wantFiles := map[string]string{"hard1": "", "%+#?&": "", "dir with spaces/": "", "dir with spaces/file with spaces.txt": ""}
	for n := range wantFiles {
		if !strings.HasSuffix(n, "/") {
			b, _ := os.ReadFile(filepath.Join(fx.src, filepath.FromSlash(n)))
			wantFiles[n] = string(b)
		}
	}
	if fmt.Sprint(files) != fmt.Sprint(wantFiles) {
		t.Errorf("selection zip holds %q, want %q", files, wantFiles)
	}

	// JavaScript improves the page: filter as you type, select all.
	do(t, ctx, "filter as you type", chromedp.SendKeys(chromedp.CSS("#filter"), "SPACES"))
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#entries tbody tr:not([hidden])")).map(tr => tr.dataset.name)`))
	if err != nil || len(visible) != 1 || visible[0] != "dir with spaces" {
		t.Errorf("rows shown after typing SPACES: %q (%v)", visible, err)
	}
	do(t, ctx, "select all", chromedp.Click(chromedp.CSS("#select-all")))
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#entries input.sel:checked").length`))
	if err != nil || checked != 3 { // the visible row, plus the two still checked from before
		t.Errorf("%d boxes checked after select all on the filtered page (%v), want 3", checked, err)
	}

	do(t, ctx, "open the incomplete snapshot",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#snapshots")),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-id="%s"] a.snap-link`, fx.snaps[2].ID))),
		chromedp.WaitVisible(chromedp.CSS("#ingest-errors")))
	if errs := text(t, ctx, "#ingest-errors"); !strings.Contains(errs, fx.bad) || !strings.Contains(errs, "permission denied") {
		t.Errorf("errors section: %q", errs)
	}
	screenshot(t, ctx, art, "08-errors.png")

	do(t, ctx, "open the job", chromedp.Click(chromedp.CSS(`.snapinfo a[href="/job/tricky"]`)), chromedp.WaitVisible(chromedp.CSS("#job-charts svg")))
	points, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#job-charts circle.pt-logical").length`))
	if err != nil || points != len(fx.snaps) {
		t.Errorf("job chart: %d points (%v), want %d", points, err, len(fx.snaps))
	}
	screenshot(t, ctx, art, "09-job.png")
	do(t, ctx, "compare the first and last snapshots", chromedp.Click(chromedp.CSS(`#diff-form button`)), chromedp.WaitVisible(chromedp.CSS("#diff")))
	if d := text(t, ctx, "#diff"); !strings.Contains(d, "nested/added.txt") {
		t.Errorf("diff: %q", d)
	}
	screenshot(t, ctx, art, "10-diff.png")
	t.Logf("screenshots in %s", art)
}

func ptr[T any](v T) *T { return &v }

// TestBrowserWithoutJavaScript: browsing, the server-side name filter, a
// single download and a selection work with scripts disabled.
func TestBrowserWithoutJavaScript(t *testing.T) {
	ctx := newBrowser(t)
	art := artifactsDir(t)
	f := newFake(t, func(o *webui.Options) { o.Anonymous = true })
	dl := t.TempDir()
	_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: ptr(true)})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "browse without scripts",
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.Click(chromedp.CSS(`tr[data-id="`+f.a1.Info.ID+`"] a.snap-link`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="docs"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-name="docs"] td.name a`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-name="readme.txt"]`)))
	if ran, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("select-all").hidden`)); ran {
		t.Error("scripts ran although disabled")
	}
	name, got := download(t, ctx, dl, chromedp.Click(chromedp.CSS(`tr[data-name="readme.txt"] a.dl`)))
	if name != "readme.txt" || string(got) != "hello, readme\n" {
		t.Errorf("download without scripts: %q %q", name, got)
	}
	do(t, ctx, "filter on the server",
		chromedp.SendKeys(chromedp.CSS("#filter"), "ReAd"),
		chromedp.Submit(chromedp.CSS("#filter")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="?"]`)))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#entries tbody tr[data-name]")).map(tr => tr.dataset.name)`))
	if err != nil || len(rows) != 1 || rows[0] != "readme.txt" {
		t.Errorf("server-side filter: %q (%v)", rows, err)
	}
	screenshot(t, ctx, art, "11-no-javascript.png")
	do(t, ctx, "select a file", chromedp.Click(chromedp.CSS(`tr[data-name="readme.txt"] input.sel`)))
	name, got = download(t, ctx, dl, chromedp.Click(chromedp.CSS("#select-tgz")))
	if name != "docs-selection.tar.gz" {
		t.Errorf("selection without scripts saved as %q", name)
	}
	if entries := readTarGz(t, got); entries["readme.txt"].data != "hello, readme\n" || len(entries) != 1 {
		t.Errorf("selection without scripts holds %v", entries)
	}
}
