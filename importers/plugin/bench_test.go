package plugin_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
	"github.com/plakar-gw/plakar-gw/importers/plugin"
)

// BenchmarkIngestVsFS is the third acceptance line: the same data ingested
// by the built-in fs importer and by the test plugin serving the fs
// importer over gRPC, alternately, each into a fresh repository, in one
// run; it reports the best throughput of each and their ratio.
//
//	go test -run '^$' -bench IngestVsFS -benchtime 1x ./importers/plugin/
//
// PLUGIN_BENCH_BIG_MIB (default 1024), PLUGIN_BENCH_SMALL (default
// 10000) and PLUGIN_BENCH_ROUNDS (default 3) size it.
func BenchmarkIngestVsFS(b *testing.B) {
	bigMiB := envInt("PLUGIN_BENCH_BIG_MIB", 1024)
	small := envInt("PLUGIN_BENCH_SMALL", 10000)
	rounds := envInt("PLUGIN_BENCH_ROUNDS", 3)
	data := b.TempDir()
	bigDir, smallDir := filepath.Join(data, "big"), filepath.Join(data, "small")
	if err := os.Mkdir(bigDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := enginetest.WriteRandomFile(filepath.Join(bigDir, "big.bin"), 1, int64(bigMiB)<<20); err != nil {
		b.Fatal(err)
	}
	var smallBytes int64
	for i := range small {
		n := 1024 + (i*7919)%(7*1024) // 1-8 KiB
		p := filepath.Join(smallDir, fmt.Sprintf("d%03d", i%100), fmt.Sprintf("f%05d", i))
		if err := enginetest.WriteFile(p, enginetest.RandData(uint64(i)+2, n)); err != nil {
			b.Fatal(err)
		}
		smallBytes += int64(n)
	}
	sets := []struct {
		name  string
		dir   string
		bytes int64
		files int
	}{{"1 GiB file", bigDir, int64(bigMiB) << 20, 1}, {"small files", smallDir, smallBytes, small}}
	if bigMiB != 1024 {
		sets[0].name = fmt.Sprintf("%d MiB file", bigMiB)
	}
	for b.Loop() {
		b.Logf("| data | fs importer | plugin | ratio |")
		b.Logf("|---|---|---|---|")
		for _, set := range sets {
			best := map[string]time.Duration{}
			for range rounds {
				for _, how := range []string{"fs", "plugin"} {
					d := timeIngest(b, how, set.dir)
					if best[how] == 0 || d < best[how] {
						best[how] = d
					}
				}
			}
			mbps := func(d time.Duration) float64 { return float64(set.bytes) / d.Seconds() / 1e6 }
			ratio := best["fs"].Seconds() / best["plugin"].Seconds()
			b.Logf("| %s (%d files, %.0f MB) | %.2fs, %.0f MB/s | %.2fs, %.0f MB/s | %.2f |", set.name, set.files, float64(set.bytes)/1e6,
				best["fs"].Seconds(), mbps(best["fs"]), best["plugin"].Seconds(), mbps(best["plugin"]), ratio)
			key := "big"
			if set.files > 1 {
				key = "small"
			}
			b.ReportMetric(ratio, "ratio-"+key)
		}
	}
}

// timeIngest ingests dir into a fresh repository with the fs importer or
// the plugin; the plugin's start-up is part of the time, as in a real
// ingest.
func timeIngest(b *testing.B, how, dir string) time.Duration {
	r, _ := enginetest.NewRepo(b)
	defer r.Close()
	start := time.Now()
	var imp importers.Importer
	var err error
	if how == "fs" {
		imp, err = fsimporter.New(b.Context(), fsimporter.Config{Root: dir})
	} else {
		imp, err = plugin.New(b.Context(), plugin.Config{Path: testPlugin(), Location: dir})
	}
	if err != nil {
		b.Fatal(err)
	}
	s, err := r.Ingest(b.Context(), imp, engine.IngestOptions{})
	imp.Close()
	if err != nil || !s.Header.Complete {
		b.Fatalf("%s ingest: %v", how, err)
	}
	return time.Since(start)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
