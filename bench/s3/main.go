// Command s3 benchmarks the S3 frontend of plakar-gw against a plain Go
// http.FileServer serving the same bytes from disk, and prints a table:
//
//	go run ./bench/s3                 # 1 GiB GET, small files, 64-client RSS
//	go run ./bench/s3 -million        # plus listing a 1,000,000-file snapshot
//
// Data, repository and cache live in -work (default /tmp/plakar-gw-bench-s3)
// and are made once: later runs reuse them. The server runs as its own
// process (plakar-gw serve --s3 --anonymous), and so does the file server
// (this program re-executed), so that neither shares the client's CPU.
// Not part of CI: it needs minutes and gigabytes.
package main

import (
	"bufio"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	work     = flag.String("work", "/tmp/plakar-gw-bench-s3", "cached data and repository `DIR`")
	gwBin    = flag.String("gw", "", "plakar-gw `BINARY` (default: go build ./cmd/plakar-gw into -work)")
	million  = flag.Bool("million", os.Getenv("PLAKAR_GW_BENCH_MILLION") != "", "also list a 1,000,000-file snapshot (env PLAKAR_GW_BENCH_MILLION)")
	bigSize  = flag.Int64("big", 1<<30, "size of the big file in `BYTES`")
	rssConns = flag.Int("rss-clients", 64, "clients downloading the big file at once for the RSS figure")
	serveDir = flag.String("serve-files", "", "internal: serve `DIR` with http.FileServer and print the address")
)

const passphrase = "bench s3"

func main() {
	flag.Parse()
	if *serveDir != "" {
		fileServer(*serveDir)
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/s3:", err)
		os.Exit(1)
	}
}

// fileServer is the baseline: the standard library serving files.
func fileServer(dir string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	http.Serve(ln, http.FileServer(http.Dir(dir)))
}

type row struct{ what, gw, fs, note string }

func run() error {
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	gw, err := binary()
	if err != nil {
		return err
	}
	if err := prepare(gw); err != nil {
		return err
	}
	files, err := startProc(os.Args[0], "-serve-files", filepath.Join(*work, "data"))
	if err != nil {
		return err
	}
	defer files.stop()

	var rows []row
	srv, err := startGateway(gw, mainRepo)
	if err != nil {
		return err
	}
	// 1 GiB GET, best of three each, alternating.
	var gwBest, fsBest float64
	for range 3 {
		r, err := download(srv.url+"/big-latest/big.bin", *bigSize)
		if err != nil {
			return err
		}
		gwBest = max(gwBest, r)
		r, err = download(files.url+"/big/big.bin", *bigSize)
		if err != nil {
			return err
		}
		fsBest = max(fsBest, r)
	}
	rows = append(rows, row{fmt.Sprintf("GET %d MiB, MB/s (best of 3)", *bigSize>>20), f1(gwBest), f1(fsBest), fmt.Sprintf("ratio %.2f (target >= 0.6)", gwBest/fsBest)})

	// 16 clients, 1,000 small files, three rounds.
	gwRate, gwP50, gwP99, err := smallFiles(func(i int) string { return fmt.Sprintf("%s/small-latest/f%04d", srv.url, i) })
	if err != nil {
		return err
	}
	fsRate, fsP50, fsP99, err := smallFiles(func(i int) string { return fmt.Sprintf("%s/small/f%04d", files.url, i) })
	if err != nil {
		return err
	}
	rows = append(rows, row{"16 clients x 1,000 small files, req/s", f0(gwRate), f0(fsRate), ""},
		row{"  latency p50 / p99, ms", ms(gwP50) + " / " + ms(gwP99), ms(fsP50) + " / " + ms(fsP99), ""})

	rows = append(rows, row{"server peak RSS so far (VmHWM), MB", f0(float64(srv.hwm()) / 1e6), "", "after the phases above"})
	srv.stop()
	if *million {
		ms, err := startGateway(gw, millionRepo)
		if err != nil {
			return err
		}
		lr, err := listMillion(ms.url)
		if err == nil {
			lr = append(lr, row{"  server peak RSS (VmHWM) after listing, MB", f0(float64(ms.hwm()) / 1e6), "", ""})
		}
		ms.stop()
		if err != nil {
			return err
		}
		rows = append(rows, lr...)
	}

	// Peak RSS while many clients download the big file, fresh process.
	srv, err = startGateway(gw, mainRepo)
	if err != nil {
		return err
	}
	defer srv.stop()
	base := srv.hwm()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *rssConns)
	for range *rssConns {
		wg.Go(func() {
			if _, err := download(srv.url+"/big-latest/big.bin", *bigSize); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	total := float64(*bigSize) * float64(*rssConns)
	rows = append(rows, row{fmt.Sprintf("%d clients x %d MiB: peak RSS (VmHWM), MB", *rssConns, *bigSize>>20), f0(float64(srv.hwm()) / 1e6), "",
		fmt.Sprintf("target <= 300; %.0f MB after opening; %.0f MB/s aggregate", float64(base)/1e6, total/1e6/time.Since(start).Seconds())})

	fmt.Printf("\n| S3 frontend | plakar-gw | http.FileServer | |\n|---|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", r.what, r.gw, r.fs, r.note)
	}
	return nil
}

func f0(v float64) string       { return strconv.FormatFloat(v, 'f', 0, 64) }
func f1(v float64) string       { return strconv.FormatFloat(v, 'f', 1, 64) }
func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

func binary() (string, error) {
	if *gwBin != "" {
		return *gwBin, nil
	}
	bin := filepath.Join(*work, "plakar-gw")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/plakar-gw")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return bin, cmd.Run()
}

// prepare makes the data and ingests it, once; a marker file per step
// says it is done.
func prepare(gw string) error {
	data := filepath.Join(*work, "data")
	steps := []struct {
		name string
		do   func() error
	}{
		{"init", func() error { return gwRun(gw, mainRepo, "init") }},
		{fmt.Sprintf("big-%d", *bigSize), func() error {
			if err := writeRandom(filepath.Join(data, "big", "big.bin"), *bigSize); err != nil {
				return err
			}
			return gwRun(gw, mainRepo, "ingest", "--job", "big", filepath.Join(data, "big"))
		}},
		{"small", func() error {
			for i := range 1000 {
				if err := writeFile(filepath.Join(data, "small", fmt.Sprintf("f%04d", i)), randBytes(uint64(i), 2048+i*8)); err != nil {
					return err
				}
			}
			return gwRun(gw, mainRepo, "ingest", "--job", "small", filepath.Join(data, "small"))
		}},
	}
	if *million {
		steps = append(steps, struct {
			name string
			do   func() error
		}{"million", func() error {
			if err := gwRun(gw, millionRepo, "init"); err != nil {
				return err
			}
			dir := filepath.Join(*work, "million")
			fmt.Fprintln(os.Stderr, "writing 1,000,000 files (once)...")
			for d := range 1000 {
				sub := filepath.Join(dir, fmt.Sprintf("d%03d", d))
				if err := os.MkdirAll(sub, 0o755); err != nil {
					return err
				}
				for f := range 1000 {
					if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", f)), []byte(strconv.Itoa(d*1000+f)), 0o644); err != nil {
						return err
					}
				}
			}
			fmt.Fprintln(os.Stderr, "ingesting them (once)...")
			t := time.Now()
			err := gwRun(gw, millionRepo, "ingest", "--job", "million", dir)
			fmt.Fprintf(os.Stderr, "ingest of 1,000,000 files: %s\n", time.Since(t).Round(time.Second))
			return err
		}})
	}
	for _, s := range steps {
		marker := filepath.Join(*work, "done-"+s.name)
		if _, err := os.Stat(marker); err == nil {
			continue
		}
		fmt.Fprintln(os.Stderr, "preparing", s.name)
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Two repositories: the million-file snapshot's index and trees would
// weigh on the memory figures of the download phases.
const (
	mainRepo    = "repo"
	millionRepo = "repo-million"
)

func gwArgs(repo string, args ...string) []string {
	return append([]string{"--repo", filepath.Join(*work, repo), "--cache-dir", filepath.Join(*work, "cache")}, args...)
}

func gwRun(gw, repo string, args ...string) error {
	cmd := exec.Command(gw, gwArgs(repo, args...)...)
	cmd.Env = append(os.Environ(), "PLAKAR_GW_PASSPHRASE="+passphrase)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	return cmd.Run()
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

func writeRandom(p string, n int64) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(f, rand.NewChaCha8([32]byte{42}), n)
	return err
}

// proc is a server process that printed its URL on its first line (or
// on the "S3 API:" line for plakar-gw).
type proc struct {
	cmd *exec.Cmd
	url string
}

func startProc(bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PLAKAR_GW_PASSPHRASE="+passphrase)
	// One log line per request would flood the terminal: keep them.
	logf, err := os.OpenFile(filepath.Join(*work, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "S3 API:"))
		if strings.HasPrefix(line, "http://") {
			p.url = line
			go io.Copy(io.Discard, out)
			return p, nil
		}
	}
	p.stop()
	return nil, errors.New(bin + " did not print its URL")
}

func startGateway(gw, repo string) (*proc, error) {
	return startProc(gw, gwArgs(repo, "serve", "--s3", "127.0.0.1:0", "--anonymous")...)
}

func (p *proc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// hwm is the process's peak resident set, in bytes.
func (p *proc) hwm() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true}}

// download GETs url and returns MB/s; the size must be want.
func download(url string, want int64) (float64, error) {
	t := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 256<<10))
	if err != nil {
		return 0, err
	}
	if n != want {
		return 0, fmt.Errorf("GET %s: %d bytes, want %d", url, n, want)
	}
	return float64(n) / 1e6 / time.Since(t).Seconds(), nil
}

// smallFiles has 16 clients fetch the 1,000 small files three times over;
// it returns requests/s and the p50 and p99 latencies.
func smallFiles(url func(int) string) (float64, time.Duration, time.Duration, error) {
	const clients, rounds = 16, 3
	jobs := make(chan int)
	var mu sync.Mutex
	var lat []time.Duration
	var first error
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for i := range jobs {
				t := time.Now()
				resp, err := client.Get(url(i))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = errors.New(resp.Status)
					}
				}
				mu.Lock()
				lat = append(lat, time.Since(t))
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	for range rounds {
		for i := range 1000 {
			jobs <- i
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(len(lat)) / elapsed.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100], first
}

type listPage struct {
	IsTruncated           bool
	NextContinuationToken string
	KeyCount              int
	Contents              []struct{ Key string }
	CommonPrefixes        []struct{ Prefix string }
}

func listOnce(base, query string) (listPage, time.Duration, error) {
	t := time.Now()
	resp, err := client.Get(base + "/million-latest?" + query)
	if err != nil {
		return listPage{}, 0, err
	}
	defer resp.Body.Close()
	var p listPage
	// The server's time is until the last byte; decoding is the client's.
	b, err := io.ReadAll(resp.Body)
	d := time.Since(t)
	if err != nil {
		return p, 0, err
	}
	if resp.StatusCode != 200 {
		return p, 0, fmt.Errorf("list: %s %s", resp.Status, b)
	}
	return p, d, xml.Unmarshal(b, &p)
}

// listMillion pages through the 1,000,000 keys, 1,000 at a time, twice
// (the first pass loads tree nodes into the process, the second finds
// them cached), and lists the root with a delimiter.
func listMillion(base string) ([]row, error) {
	var rows []row
	for pass := 1; pass <= 2; pass++ {
		var lat []time.Duration
		token, keys := "", 0
		for {
			q := "list-type=2&max-keys=1000"
			if token != "" {
				q += "&continuation-token=" + url.QueryEscape(token)
			}
			p, d, err := listOnce(base, q)
			if err != nil {
				return nil, err
			}
			lat = append(lat, d)
			keys += len(p.Contents)
			if !p.IsTruncated {
				break
			}
			token = p.NextContinuationToken
		}
		if keys != 1_000_000 {
			return nil, fmt.Errorf("listed %d keys, want 1,000,000", keys)
		}
		first, last := lat[0], lat[len(lat)-1]
		sorted := append([]time.Duration(nil), lat...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		rows = append(rows, row{fmt.Sprintf("ListObjectsV2 1M keys, pass %d: %d pages p50 / p99, ms", pass, len(lat)), ms(sorted[len(sorted)/2]) + " / " + ms(sorted[len(sorted)*99/100]), "",
			fmt.Sprintf("first %s ms, last %s ms (target p50 <= 20, last <= 2x first)", ms(first), ms(last))})
	}
	p, d, err := listOnce(base, "list-type=2&delimiter=/&max-keys=1000")
	if err != nil {
		return nil, err
	}
	if len(p.CommonPrefixes) != 1000 {
		return nil, fmt.Errorf("delimiter listing: %d prefixes", len(p.CommonPrefixes))
	}
	p2, d2, err := listOnce(base, "list-type=2&delimiter=/&prefix=d500/&max-keys=1000")
	if err != nil || len(p2.Contents) != 1000 {
		return nil, fmt.Errorf("listing d500/: %d keys, %v", len(p2.Contents), err)
	}
	rows = append(rows, row{"ListObjectsV2 delimiter /: 1,000 prefixes; one dir of 1,000, ms", ms(d) + " / " + ms(d2), "", "the prefixes' contents are skipped by seeks"})
	return rows, nil
}
