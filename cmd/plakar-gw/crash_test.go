package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashDuringIngest kills `plakar-gw ingest` with SIGKILL at random
// moments. After each kill, every earlier snapshot must restore exactly,
// check must pass, and a new ingest must succeed.
func TestCrashDuringIngest(t *testing.T) {
	crashDuringIngest(t, newCLI(t))
}

// TestCrashDuringIngestS3 is the same on a repository in a bucket of the
// real S3 server that scripts/it/s3store.sh starts.
func TestCrashDuringIngestS3(t *testing.T) {
	crashDuringIngest(t, newS3CLI(t))
}

func crashDuringIngest(t *testing.T, c *cli) {
	bin := filepath.Join(t.TempDir(), "plakar-gw")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	src := filepath.Join(c.dir, "src")
	rng := rand.New(rand.NewPCG(42, 7))
	size := 128 << 20
	if testing.Short() {
		size = 32 << 20
	}
	addFiles(t, rng, src, 0, size)
	c.ok("init")
	snaps := map[string]map[string]string{} // id -> path -> sha256
	start := time.Now()
	if out, err := exec.Command(bin, "ingest", "--json", "--job", "crash", src).Output(); err != nil {
		t.Fatalf("first ingest: %v\n%s", err, out)
	}
	// Later rounds ingest about as much new data: kill them anywhere in
	// that span, from key derivation to the last index write.
	span := time.Since(start)
	snaps[ingestID(t, c, src)] = hashTree(t, src)

	for round := 1; round <= 5; round++ {
		addFiles(t, rng, src, round, size)
		delay := time.Duration(float64(span) * (0.05 + rng.Float64()))
		cmd := exec.Command(bin, "ingest", "--job", "crash", src)
		cmd.Env = os.Environ()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		t.Logf("round %d: killed after %v (%v)", round, delay, err)

		if r := c.run("check"); r.code != 0 {
			t.Fatalf("round %d: check after kill: exit %d\n%s%s", round, r.code, r.stdout, r.stderr)
		}
		for id, want := range snaps {
			dst := filepath.Join(c.dir, fmt.Sprintf("restore-%d-%s", round, id[:8]))
			c.ok("restore", id, "--to", dst)
			if got := hashTree(t, dst); !sameTree(got, want) {
				t.Fatalf("round %d: snapshot %s does not restore identically", round, id[:12])
			}
			os.RemoveAll(dst)
		}
		snaps[ingestID(t, c, src)] = hashTree(t, src)
	}
	if r := c.run("check", "--read-data"); r.code != 0 {
		t.Fatalf("final check --read-data: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func ingestID(t *testing.T, c *cli, src string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(c.ok("ingest", "--json", "--job", "crash", src)), &out); err != nil || len(out.ID) != 64 {
		t.Fatalf("ingest --json: %q, %v", out.ID, err)
	}
	return out.ID
}

// addFiles writes a few files totalling about size bytes into src/rN.
func addFiles(t *testing.T, rng *rand.Rand, src string, round, size int) {
	t.Helper()
	dir := filepath.Join(src, fmt.Sprintf("r%d", round))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, left := 0, size; left > 0; i++ {
		n := min(left, 1+rng.IntN(8<<20))
		buf := make([]byte, n)
		for j := 0; j+8 <= n; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
}

func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, root)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
