// Command load is the gateway's load test: it builds a repository, starts
// "plakar-gw serve" with S3 and WebDAV on loopback and a job that ingests
// during the run, then drives many concurrent S3 and WebDAV clients for a
// fixed time, checking every body against the source, and prints a table:
// requests, failures, wrong bytes, throughput, latency and the server's
// peak RSS.
//
//	go run ./bench/load -clients 200 -duration 60s
//
// It needs a plakar-gw binary (-bin; built from ./cmd/plakar-gw when empty).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type stats struct {
	mu       sync.Mutex
	lat      []time.Duration
	ok, fail atomic.Int64
	wrong    atomic.Int64
	bytes    atomic.Int64
	errs     []string
}

func (s *stats) record(d time.Duration, n int64, err error, wrong bool) {
	switch {
	case wrong:
		s.wrong.Add(1)
	case err != nil:
		s.fail.Add(1)
		s.mu.Lock()
		if len(s.errs) < 5 {
			s.errs = append(s.errs, err.Error())
		}
		s.mu.Unlock()
		return
	default:
		s.ok.Add(1)
	}
	s.bytes.Add(n)
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
}

func (s *stats) pct(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lat) == 0 {
		return 0
	}
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	return s.lat[int(p*float64(len(s.lat)-1))]
}

func main() {
	bin := flag.String("bin", "", "plakar-gw binary (default: build ./cmd/plakar-gw)")
	clients := flag.Int("clients", 200, "concurrent clients, half S3, half WebDAV")
	duration := flag.Duration("duration", 60*time.Second, "how long the clients run")
	work := flag.String("work", "/tmp/plakar-gw-load", "work folder (emptied first)")
	files := flag.Int("files", 300, "files served (1 KiB to 1 MiB) besides two 32 MiB ones")
	ingestSize := flag.Int64("ingest-mib", 512, "MiB the job ingests during the run")
	flag.Parse()
	if err := run(*bin, *clients, *duration, *work, *files, *ingestSize<<20); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	rand.NewChaCha8(s).Read(b)
	return b
}

func run(bin string, clients int, duration time.Duration, work string, nfiles int, ingestSize int64) error {
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	src, churn := filepath.Join(work, "src"), filepath.Join(work, "churn")
	for _, d := range []string{src, churn} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if bin == "" {
		bin = filepath.Join(work, "plakar-gw")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/plakar-gw").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	// The served files and their hashes.
	want := map[string][32]byte{}
	var keys []string
	for i := range nfiles + 2 {
		n := 1<<10 + rand.N(1<<20)
		if i >= nfiles {
			n = 32 << 20
		}
		k := fmt.Sprintf("d%02d/file-%04d.bin", i%20, i)
		b := randBytes(uint64(i), n)
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(k)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, k), b, 0o644); err != nil {
			return err
		}
		want[k] = sha256.Sum256(b)
		keys = append(keys, k)
	}
	// What the job ingests while clients read: new random bytes each run.
	for i := range int(ingestSize >> 24) {
		if err := os.WriteFile(filepath.Join(churn, fmt.Sprintf("c%03d", i)), randBytes(uint64(10000+i), 16<<20), 0o644); err != nil {
			return err
		}
	}
	env := append(os.Environ(), "PLAKAR_GW_PASSPHRASE=load test", "PLAKAR_GW_REPO="+filepath.Join(work, "repo"),
		"PLAKAR_GW_CACHE_DIR="+filepath.Join(work, "cache"), "PLAKAR_GW_CONFIG="+filepath.Join(work, "config.yaml"))
	cfg := fmt.Sprintf(`listeners:
  s3: {enabled: true, addr: "127.0.0.1:0"}
  webdav: {enabled: true, addr: "127.0.0.1:0"}
  metrics: {enabled: true, addr: "127.0.0.1:0"}
users:
  - {name: load, access_key_id: LOADKEY, secret_access_key: loadsecret, password_hash: '%s'}
jobs:
  - {name: churn, source: %s, schedule: 5s, retention: {keep_last: 2}}
  - {name: served, source: %s}
log:
  format: json
`, "$2a$04$nOdhKtLTyegakOMrapEZPesFy7tOwvmvZaIYF50VcZbG4GVPFzmh.", churn, src) // bcrypt of "loadpw", cost 4
	if err := os.WriteFile(filepath.Join(work, "config.yaml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	for _, args := range [][]string{{"init"}, {"ingest", "--job", "served"}} {
		c := exec.Command(bin, args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	srv := exec.Command(bin, "serve")
	srv.Env = env
	var stdout bytes.Buffer
	logf, err := os.Create(filepath.Join(work, "serve.log"))
	if err != nil {
		return err
	}
	srv.Stdout, srv.Stderr = &stdout, logf
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	addrs := map[string]string{}
	re := regexp.MustCompile(`(?m)^(S3 API|WebDAV|Metrics):\s+http://([^/\s]+)`)
	for start := time.Now(); len(addrs) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			return fmt.Errorf("serve did not start; see %s", logf.Name())
		}
		for _, m := range re.FindAllStringSubmatch(stdout.String(), -1) {
			addrs[m[1]] = m[2]
		}
	}

	// Peak RSS of the server, sampled, and the kernel's high-water mark.
	var peak atomic.Int64
	stopRSS := make(chan struct{})
	go func() {
		for {
			if v := procStatus(srv.Process.Pid, "VmRSS"); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stopRSS:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	// Fresh bytes for the job every few seconds, so that each run of it
	// reads, chunks and stores new data while the clients read.
	go func() {
		for round := uint64(1); ; round++ {
			select {
			case <-stopRSS:
				return
			case <-time.After(4 * time.Second):
			}
			for j := range 4 {
				os.WriteFile(filepath.Join(churn, fmt.Sprintf("c%03d", j)), randBytes(round*1000+uint64(j), 16<<20), 0o644)
			}
		}
	}()

	s3c := s3.New(s3.Options{BaseEndpoint: aws.String("http://" + addrs["S3 API"]), UsePathStyle: true, Region: "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("LOADKEY", "loadsecret", ""),
		HTTPClient:       &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
		RetryMaxAttempts: 1})
	davc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var s3s, davs, lists stats
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	check := func(body io.Reader, k string) (int64, bool, error) {
		h := sha256.New()
		n, err := io.Copy(h, body)
		if err != nil {
			return n, false, err
		}
		return n, !bytes.Equal(h.Sum(nil), func() []byte { w := want[k]; return w[:] }()), nil
	}
	for i := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				k := keys[rng.IntN(len(keys))]
				start := time.Now()
				if i%2 == 0 {
					if rng.IntN(20) == 0 {
						_, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("served-latest"), Prefix: aws.String("d0"), MaxKeys: aws.Int32(100)})
						lists.record(time.Since(start), 0, err, false)
						continue
					}
					out, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("served-latest"), Key: aws.String(k)})
					if err != nil {
						s3s.record(time.Since(start), 0, err, false)
						continue
					}
					n, wrong, err := check(out.Body, k)
					out.Body.Close()
					s3s.record(time.Since(start), n, err, wrong)
				} else {
					req, _ := http.NewRequest("GET", "http://"+addrs["WebDAV"]+"/served-latest/"+k, nil)
					req.SetBasicAuth("load", "loadpw")
					resp, err := davc.Do(req)
					if err != nil {
						davs.record(time.Since(start), 0, err, false)
						continue
					}
					if resp.StatusCode != 200 {
						resp.Body.Close()
						davs.record(time.Since(start), 0, fmt.Errorf("GET %s: %s", k, resp.Status), false)
						continue
					}
					n, wrong, err := check(resp.Body, k)
					resp.Body.Close()
					davs.record(time.Since(start), n, err, wrong)
				}
			}
		})
	}
	wg.Wait()
	close(stopRSS)
	hwm := procStatus(srv.Process.Pid, "VmHWM")
	metrics := fetch("http://" + addrs["Metrics"] + "/metrics")
	runs := 0
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, `plakar_gw_job_runs_total{job="churn"`) {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			runs += int(v)
		}
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()

	fmt.Printf("| %d clients, %v, job ingesting %d MiB every 5 s (%d runs) | requests | failed | wrong bytes | req/s | MB/s | p50 | p99 |\n",
		clients, duration, ingestSize>>20, runs)
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range []struct {
		name string
		s    *stats
	}{{"S3 GetObject", &s3s}, {"S3 ListObjectsV2", &lists}, {"WebDAV GET", &davs}} {
		total := r.s.ok.Load() + r.s.fail.Load() + r.s.wrong.Load()
		fmt.Printf("| %s | %d | %d | %d | %.0f | %.1f | %v | %v |\n", r.name, total, r.s.fail.Load(), r.s.wrong.Load(),
			float64(total)/duration.Seconds(), float64(r.s.bytes.Load())/duration.Seconds()/1e6,
			r.s.pct(0.5).Round(time.Millisecond), r.s.pct(0.99).Round(time.Millisecond))
		for _, e := range r.s.errs {
			fmt.Println("  error:", e)
		}
	}
	fmt.Printf("\nserver peak RSS: %d MiB sampled, %d MiB VmHWM\n", peak.Load()>>10, hwm>>10)
	if s3s.fail.Load()+s3s.wrong.Load()+davs.fail.Load()+davs.wrong.Load()+lists.fail.Load() > 0 {
		return fmt.Errorf("failed or wrong requests; server log: %s", logf.Name())
	}
	return nil
}

func fetch(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// procStatus reads a "kB" field of /proc/PID/status.
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
