// Command webui benchmarks the web UI of a real plakar-gw serve process:
//
//   - the zip download of a 1 GiB directory of mixed files (bench/gendata)
//     against `zip -r -0 - DIR > /dev/null` on the same files on disk, with
//     the server's peak RSS during the download;
//   - the first render of a directory page of 100,000 entries in headless
//     Chromium (navigation start to the load event, and the first
//     contentful paint).
//
// It prints a markdown table and keeps screenshots in -work.
//
//	go run ./bench/webui -work /tmp/plakar-gw-bench-webui -size 1GiB -entries 100000
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
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
	"sync/atomic"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	work := flag.String("work", "/tmp/plakar-gw-bench-webui", "work directory (dataset, repository, logs, screenshots)")
	size := flag.String("size", "1GiB", "size of the mixed dataset")
	entries := flag.Int("entries", 100000, "entries of the big directory")
	bin := flag.String("bin", "", "prebuilt plakar-gw binary (default: build ./cmd/plakar-gw)")
	runs := flag.Int("runs", 2, "downloads and zip runs to time (the best is compared)")
	flag.Parse()
	if err := run(*work, *size, *entries, *bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench/webui:", err)
		os.Exit(1)
	}
}

const user, pass = "bench", "bench-password"

func run(work, size string, entries int, bin string, runs int) error {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if bin == "" {
		bin = filepath.Join(work, "plakar-gw")
		if err := sh("", nil, "go", "build", "-o", bin, "./cmd/plakar-gw"); err != nil {
			return err
		}
	}
	data := filepath.Join(work, "mixed")
	flat := filepath.Join(work, "flat")
	repo := filepath.Join(work, "repo")
	env := append(os.Environ(), "PLAKAR_GW_PASSPHRASE=bench webui", "PLAKAR_GW_ACCESS_KEY_ID="+user, "PLAKAR_GW_SECRET_ACCESS_KEY="+pass)
	if _, err := os.Stat(repo); err != nil { // first run: build everything
		if err := sh("", nil, "go", "run", "./bench/gendata", "-out", data, "-size", size, "-seed", "1"); err != nil {
			return err
		}
		if err := makeFlat(filepath.Join(flat, "big"), entries); err != nil {
			return err
		}
		for _, args := range [][]string{{"init"}, {"ingest", "--job", "mixed", data}, {"ingest", "--job", "flat", flat}} {
			start := time.Now()
			if err := sh("", env, bin, append([]string{"--repo", repo, "--cache-dir", filepath.Join(work, "cache")}, args...)...); err != nil {
				return err
			}
			log("%v: %v", args[0], time.Since(start).Round(time.Millisecond))
		}
	}
	srv, base, err := startServe(bin, repo, work, env)
	if err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()

	c, err := login(base)
	if err != nil {
		return err
	}
	var dataBytes int64
	filepath.Walk(data, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			dataBytes += fi.Size()
		}
		return nil
	})
	idle := procStatus(srv.Process.Pid, "VmRSS")
	rss := newRSS(srv.Process.Pid)
	var ui, zipT []time.Duration
	var zipBytes int64
	for i := range runs {
		d, n, err := timeZip(base+"/archive/mixed-latest/?format=zip", c, rss)
		if err != nil {
			return err
		}
		ui, zipBytes = append(ui, d), n
		log("UI zip download %d: %d bytes in %v (%.0f MB/s)", i+1, n, d.Round(time.Millisecond), float64(n)/d.Seconds()/1e6)
		start := time.Now()
		if err := sh(work, nil, "sh", "-c", "zip -q -r -0 - mixed > /dev/null"); err != nil {
			return err
		}
		zipT = append(zipT, time.Since(start))
		log("zip -r -0 %d: %v", i+1, zipT[i].Round(time.Millisecond))
	}
	peak, hwm := rss.stop()

	page, fcp, rows, err := firstRender(base, work)
	if err != nil {
		return err
	}
	bestUI, bestZip := best(ui), best(zipT)
	ratio := bestUI.Seconds() / bestZip.Seconds()
	fmt.Printf("\n| measure | value | target |\n|---|---|---|\n")
	fmt.Printf("| dataset | %s mixed files (bench/gendata -seed 1), %d bytes | |\n", size, dataBytes)
	fmt.Printf("| UI zip download (GET /archive/mixed-latest/?format=zip), best of %d | %v (%.0f MB/s, %d bytes) | |\n", runs, bestUI.Round(time.Millisecond), float64(zipBytes)/bestUI.Seconds()/1e6, zipBytes)
	fmt.Printf("| `zip -r -0 - DIR > /dev/null` on the files on disk, best of %d | %v | |\n", runs, bestZip.Round(time.Millisecond))
	fmt.Printf("| time ratio UI / zip | **%.2f** | ≤ 1.5 |\n", ratio)
	fmt.Printf("| server RSS: idle after login / sampled peak during the downloads / VmHWM | %d MiB / %d MiB / %d MiB | ≤ 150 MB |\n", idle>>10, peak>>10, hwm>>10)
	fmt.Printf("| directory page of %d entries (%d rows on its first page): navigation start to load event end | **%v** | ≤ 1 s |\n", entries, rows, page.Round(time.Millisecond))
	fmt.Printf("| same page: first contentful paint | %v | |\n", fcp.Round(time.Millisecond))
	fmt.Printf("\nall runs: UI %v, zip %v\nscreenshots: %s\n", ui, zipT, filepath.Join(work, "*.png"))
	return nil
}

func log(format string, args ...any) { fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...) }

func sh(dir string, env []string, name string, args ...string) error {
	c := exec.Command(name, args...)
	c.Dir, c.Env = dir, env
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s", name, args, err, out)
	}
	return nil
}

func makeFlat(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%06d.txt", i)), []byte(fmt.Sprintf("entry %d\n", i)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func startServe(bin, repo, work string, env []string) (*exec.Cmd, string, error) {
	srv := exec.Command(bin, "--repo", repo, "--cache-dir", filepath.Join(work, "cache"), "serve", "--ui", "127.0.0.1:0")
	srv.Env = env
	out, err := srv.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	logf, err := os.Create(filepath.Join(work, "serve.log"))
	if err != nil {
		return nil, "", err
	}
	srv.Stderr = logf
	if err := srv.Start(); err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`Web UI:\s+(http://\S+?)/?$`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return srv, base, nil
	case <-time.After(60 * time.Second):
		srv.Process.Kill()
		return nil, "", fmt.Errorf("serve did not print its UI address; see %s", logf.Name())
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func login(base string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		return nil, errors.New("no login form")
	}
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "user": {user}, "password": {pass}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		return nil, fmt.Errorf("login failed: %s", resp.Status)
	}
	return c, nil
}

func timeZip(u string, c *http.Client, rss *rssSampler) (time.Duration, int64, error) {
	start := time.Now()
	resp, err := c.Get(u)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 1<<20))
	return time.Since(start), n, err
}

func best(ds []time.Duration) time.Duration {
	b := ds[0]
	for _, d := range ds {
		b = min(b, d)
	}
	return b
}

// rssSampler samples the server's RSS every 20 ms.
type rssSampler struct {
	pid  int
	peak atomic.Int64
	done chan struct{}
}

func newRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, done: make(chan struct{})}
	go func() {
		for {
			if v := procStatus(pid, "VmRSS"); v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() (peak, hwm int64) {
	close(s.done)
	return s.peak.Load(), procStatus(s.pid, "VmHWM")
}

func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// firstRender logs in with headless Chromium, opens the big directory
// once to warm the server's cache, then measures a fresh navigation.
func firstRender(base, work string) (load, fcp time.Duration, rows int, err error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath("chromium"), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(work, "chromium-profile")), chromedp.WindowSize(1280, 1000),
	}
	os.RemoveAll(filepath.Join(work, "chromium-profile"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelC()
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#user-field"), user),
		chromedp.SendKeys(chromedp.CSS("#password-field"), pass),
		chromedp.Click(chromedp.CSS("#login-button")),
		chromedp.WaitVisible(chromedp.CSS("#snapshots")),
		chromedp.Navigate(base+"/s/flat-latest/big"),
		chromedp.WaitVisible(chromedp.CSS("#entries")),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#snapshots")),
		chromedp.Navigate(base+"/s/flat-latest/big"),
		chromedp.WaitVisible(chromedp.CSS("#entries")),
	)
	if err != nil {
		return 0, 0, 0, err
	}
	type timing struct {
		Load float64 `json:"load"`
		FCP  float64 `json:"fcp"`
		Rows int     `json:"rows"`
	}
	tm, err := chromedp.Run(ctx, chromedp.Evaluate[timing](`(() => {
		const n = performance.getEntriesByType("navigation")[0];
		const p = performance.getEntriesByName("first-contentful-paint")[0];
		return {load: n.loadEventEnd - n.startTime, fcp: p ? p.startTime : -1,
			rows: document.querySelectorAll("#entries tbody tr").length};
	})()`))
	if err != nil {
		return 0, 0, 0, err
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		os.WriteFile(filepath.Join(work, "dir-100k.png"), png, 0o644)
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return ms(tm.Load), ms(tm.FCP), tm.Rows, nil
}
