package fs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkScan walks 10,000 empty files in 100 directories: it measures
// the per-entry cost (lstat, xattr listing, owner lookup), not I/O.
func BenchmarkScan(b *testing.B) {
	root := b.TempDir()
	for d := range 100 {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", d))
		must(b, os.Mkdir(dir, 0o755))
		for f := range 100 {
			must(b, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), nil, 0o644))
		}
	}
	imp := newImporter(b, root)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n = len(scan(b, imp))
	}
	if n != 1+100+100*100 {
		b.Fatalf("scanned %d records", n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
