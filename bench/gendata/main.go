// Command gendata generates the deterministic "mixed" benchmark dataset and
// its mutated second version.
//
//	go run ./bench/gendata -out DIR -size 2GiB -seed 1
//	go run ./bench/gendata -mutate DIR -seed 1
//
// The dataset is half incompressible random bytes and half text-like,
// compressible data (prose drawn from a fixed vocabulary with Zipf-like word
// frequencies, JSON, CSV and log lines). Roughly 60% of the bytes are in a few
// large files (64–256 MiB for a 2 GiB dataset, scaled down for small sizes but
// never below 8 MiB) and 40% in many small files (1 KiB–256 KiB, log-uniform)
// spread over nested directories.
//
// -mutate modifies every regular file of at least 8 MiB in place: 5% of its
// bytes are overwritten (four regions, one in each quarter of the file) with
// new bytes of the same kind (random or text), and new bytes amounting to 1% of
// its size are inserted in the middle, so the file grows by 1%.
//
// Everything is derived from -seed: the same seed and size produce identical
// trees, and mutating identical trees produces identical trees.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	kiB = 1 << 10
	miB = 1 << 20

	// Files at least this large are "large" for -mutate.
	mutateThreshold = 8 * miB
	// Bounds for the size of large files.
	largeMin = 8 * miB
	largeMax = 256 * miB
	// Bounds for the size of small files.
	smallMin = 1 * kiB
	smallMax = 256 * kiB
	// Fraction of the dataset stored in large files.
	largeShare = 0.6
)

type kind int

const (
	kindRandom kind = iota
	kindText
)

func (k kind) String() string {
	if k == kindRandom {
		return "random"
	}
	return "text"
}

// textStyle selects the kind of lines of a text file.
type textStyle int

const (
	styleMixed textStyle = iota
	styleProse
	styleJSON
	styleCSV
	styleLog
)

type fileSpec struct {
	path  string // relative to the output directory
	size  int64
	kind  kind
	style textStyle
	seed  uint64
}

func main() {
	out := flag.String("out", "", "generate a new dataset in `DIR` (must not exist or be empty)")
	sizeStr := flag.String("size", "2GiB", "total dataset `size` (e.g. 64MiB, 2GiB, 500MB, 123456)")
	seed := flag.Uint64("seed", 1, "PRNG seed")
	mutate := flag.String("mutate", "", "mutate the dataset in `DIR` in place (second version)")
	workers := flag.Int("j", runtime.GOMAXPROCS(0), "number of parallel writers")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage:\n  gendata -out DIR [-size 2GiB] [-seed 1]\n  gendata -mutate DIR [-seed 1]\n\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || (*out == "") == (*mutate == "") {
		flag.Usage()
		os.Exit(2)
	}
	if *workers < 1 {
		*workers = 1
	}

	start := time.Now()
	var err error
	if *out != "" {
		var size int64
		size, err = parseSize(*sizeStr)
		if err == nil {
			err = generate(*out, size, *seed, *workers)
		}
	} else {
		err = mutateTree(*mutate, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gendata: done in %.1fs\n", time.Since(start).Seconds())
}

// parseSize parses sizes such as "2GiB", "64MiB", "500MB", "1G", "4096".
// Single-letter suffixes (K, M, G, T) are binary.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(v * mult), nil
}

// mix derives independent 64-bit seeds (splitmix64 finalizer).
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func newSource(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix(seed), mix(seed^0x5851f42d4c957f2d)))
}

func newChaCha(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(s[i*8:], mix(seed+uint64(i)*0x632be59bd9b4e019))
	}
	return rand.NewChaCha8(s)
}

// plan decides the file layout. It only depends on size and seed.
func plan(total int64, seed uint64) []fileSpec {
	r := newSource(seed)
	var files []fileSpec
	var bytesOf [2]int64 // per kind, to keep the random/text split at 50/50
	pickKind := func() kind {
		if bytesOf[kindRandom] <= bytesOf[kindText] {
			return kindRandom
		}
		return kindText
	}
	nextSeed := func() uint64 { return r.Uint64() }

	// Large files.
	largeBudget := int64(float64(total) * largeShare)
	hi := min(max(largeBudget/3, largeMin), largeMax)
	lo := max(hi/4, largeMin)
	if largeBudget < largeMin {
		largeBudget = 0 // too small a dataset for large files
	}
	var sizes []int64
	for rem := largeBudget; rem > 0; {
		s := lo + r.Int64N(hi-lo+1)
		if rem-s < lo {
			s = rem // the last one takes the remainder (at most hi+lo)
		}
		sizes = append(sizes, s)
		rem -= s
	}
	for i, s := range sizes {
		k := pickKind()
		bytesOf[k] += s
		name := fmt.Sprintf("large/blob-%02d.bin", i)
		if k == kindText {
			name = fmt.Sprintf("large/text-%02d.log", i)
		}
		files = append(files, fileSpec{path: name, size: s, kind: k, style: styleMixed, seed: nextSeed()})
	}

	// Small files, log-uniform sizes in [smallMin, smallMax].
	smallBudget := total - largeBudget
	avg := float64(smallMax-smallMin) / math.Log(float64(smallMax)/float64(smallMin))
	nDirs := max(1, int(float64(smallBudget)/avg/40))
	dirs := makeDirs(r, nDirs)
	lmin, lmax := math.Log(smallMin), math.Log(smallMax)
	for rem, i := smallBudget, 0; rem > 0; i++ {
		s := int64(math.Exp(lmin + r.Float64()*(lmax-lmin)))
		s = min(s, rem)
		k := pickKind()
		bytesOf[k] += s
		var ext string
		style := styleMixed
		if k == kindRandom {
			ext = [...]string{".bin", ".dat", ".jpg", ".gz"}[r.IntN(4)]
		} else {
			style = textStyle(1 + r.IntN(4))
			ext = map[textStyle]string{styleProse: ".txt", styleJSON: ".json", styleCSV: ".csv", styleLog: ".log"}[style]
		}
		dir := dirs[r.IntN(len(dirs))]
		files = append(files, fileSpec{
			path: filepath.Join(dir, fmt.Sprintf("f%06d%s", i, ext)),
			size: s, kind: k, style: style, seed: nextSeed(),
		})
		rem -= s
	}
	return files
}

// makeDirs builds n directory paths forming a tree of depth 1 to 4.
func makeDirs(r *rand.Rand, n int) []string {
	dirs := []string{"small"}
	for len(dirs) < n+1 {
		parent := dirs[r.IntN(len(dirs))]
		if strings.Count(parent, "/") >= 4 {
			continue
		}
		dirs = append(dirs, filepath.Join(parent, vocab[r.IntN(len(vocab))]+"-"+strconv.Itoa(len(dirs))))
	}
	return dirs
}

func generate(out string, total int64, seed uint64, workers int) error {
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s exists and is not empty", out)
	}
	files := plan(total, seed)
	var nLarge int
	var bytesOf [2]int64
	for _, f := range files {
		bytesOf[f.kind] += f.size
		if f.size >= mutateThreshold {
			nLarge++
		}
	}
	fmt.Fprintf(os.Stderr, "gendata: %d files (%d large), %d bytes (random %d, text %d), seed %d\n",
		len(files), nLarge, bytesOf[0]+bytesOf[1], bytesOf[kindRandom], bytesOf[kindText], seed)

	// Directories first, so workers only create files.
	made := map[string]bool{}
	for _, f := range files {
		d := filepath.Join(out, filepath.Dir(f.path))
		if !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
	}

	// Large files first so they are spread over the workers.
	jobs := make(chan fileSpec)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4*miB)
			for f := range jobs {
				if err := writeFile(filepath.Join(out, f.path), f, buf); err != nil {
					errc <- err
					for range jobs {
					}
					return
				}
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	close(errc)
	return <-errc
}

func writeFile(path string, f fileSpec, buf []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	fill := newFiller(f.kind, f.style, f.seed)
	for rem := f.size; rem > 0; {
		n := int(min(rem, int64(len(buf))))
		fill(buf[:n])
		if _, err := fh.Write(buf[:n]); err != nil {
			fh.Close()
			return err
		}
		rem -= int64(n)
	}
	return fh.Close()
}

// newFiller returns a function that fills buffers with a deterministic
// stream of bytes of the given kind.
func newFiller(k kind, style textStyle, seed uint64) func([]byte) {
	if k == kindRandom {
		c := newChaCha(seed)
		return func(p []byte) { _, _ = c.Read(p) }
	}
	g := newTextGen(seed, style)
	return g.fill
}

// ---------------------------------------------------------------------------
// Text generation.

// vocab is a fixed vocabulary: common English words followed by
// pseudo-words built from syllables with a fixed seed (independent of -seed).
var vocab = buildVocab()

// zipfTable maps 16 random bits to a vocabulary index with Zipf-like
// (s ≈ 1.1) frequencies.
var zipfTable = buildZipf()

func buildVocab() []string {
	words := strings.Fields(`the of and to in is that it for was on are as with his they at be this
		from have or by one had not but what all were when we there can an your which their said if do
		will each about how up out them then she many some so these would other into has more her two
		like him see time could no make than first been its who now people my made over did down only
		way find use may water long little very after words called just where most know get through back
		much before go good new write our used me man too any day same right look think also around
		another came come work three word must because does part even place well such here take why
		things help put years different away again off went old number great tell men say small every
		found still between name should home big give air line set own under read last never us left
		end along while might next sound below saw something thought both few those always looked show
		large often together asked house world going want school important until form food keep children
		feet land side without boy once animals life enough took sometimes four head above kind began
		almost live page got earth need far hand high year mother light parts country father let night
		following picture being study second eyes soon times story boys since white days ever paper hard
		near sentence better best across during today others however sure means knew its try told young
		miles sun ways thing whole hear example heard several change answer room sea against top turned
		learn point city play toward five using himself usually server request backup snapshot chunk
		repository index packfile object storage error warning latency bytes client session cache`)
	r := rand.New(rand.NewPCG(0x706c616b6172, 0x6277)) // fixed: "plakar","bw"
	syll := strings.Fields(`ka ro mi tan sel vo qua ber lin est dor pha gri ul zen mo tri sa ne ko
		lu fra pol dem ix ar ot ren vi sto cle mar tu bo ha gen wel as ur ni lo`)
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	for len(words) < 4096 {
		var b strings.Builder
		for n := 1 + r.IntN(4); n > 0; n-- {
			b.WriteString(syll[r.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

func buildZipf() []uint16 {
	const s = 1.1
	n := len(vocab)
	cum := make([]float64, n)
	var sum float64
	for i := range n {
		sum += 1 / math.Pow(float64(i+1), s)
		cum[i] = sum
	}
	t := make([]uint16, 1<<16)
	j := 0
	for i := range t {
		x := (float64(i) + 0.5) / float64(len(t)) * sum
		for j < n-1 && cum[j] < x {
			j++
		}
		t[i] = uint16(j)
	}
	return t
}

type textGen struct {
	r     *rand.Rand
	style textStyle
	bits  uint64 // buffered random bits for word picks
	nbits int
	pend  []byte // generated bytes not yet handed out
	line  []byte
	ts    int64 // fake clock for log/JSON lines
	id    int64
	block int // remaining lines of the current style (mixed files)
	cur   textStyle
}

func newTextGen(seed uint64, style textStyle) *textGen {
	r := newSource(seed)
	return &textGen{r: r, style: style, ts: 1700000000000 + r.Int64N(1e10), id: r.Int64N(1e6)}
}

func (g *textGen) word() string {
	if g.nbits < 16 {
		g.bits, g.nbits = g.r.Uint64(), 64
	}
	w := vocab[zipfTable[g.bits&0xffff]]
	g.bits >>= 16
	g.nbits -= 16
	return w
}

func (g *textGen) words(b []byte, n int) []byte {
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, g.word()...)
	}
	return b
}

var levels = []string{"INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"}
var components = []string{"api", "db", "auth", "scheduler", "storage", "http", "worker", "cache"}

func (g *textGen) nextLine() []byte {
	st := g.style
	if st == styleMixed {
		if g.block <= 0 {
			g.cur = textStyle(1 + g.r.IntN(4))
			g.block = 20 + g.r.IntN(2000)
		}
		g.block--
		st = g.cur
	}
	b := g.line[:0]
	g.ts += g.r.Int64N(3000) // milliseconds
	g.id++
	switch st {
	case styleProse:
		n := 6 + g.r.IntN(18)
		start := len(b)
		b = g.words(b, n)
		if b[start] >= 'a' && b[start] <= 'z' {
			b[start] -= 'a' - 'A'
		}
		b = append(b, ".,;!?"[min(g.r.IntN(8), 4)])
		if g.r.IntN(5) == 0 {
			b = append(b, '\n')
		}
	case styleJSON:
		b = append(b, `{"ts":`...)
		b = time.UnixMilli(g.ts).UTC().AppendFormat(append(b, '"'), "2006-01-02T15:04:05.000Z")
		b = append(b, `","level":"`...)
		b = append(b, strings.ToLower(levels[g.r.IntN(len(levels))])...)
		b = append(b, `","id":`...)
		b = strconv.AppendInt(b, g.id, 10)
		b = append(b, `,"user":"`...)
		b = append(b, g.word()...)
		b = append(b, `","duration_ms":`...)
		b = strconv.AppendInt(b, g.r.Int64N(5000), 10)
		b = append(b, `,"msg":"`...)
		b = g.words(b, 3+g.r.IntN(8))
		b = append(b, `"}`...)
	case styleCSV:
		b = strconv.AppendInt(b, g.id, 10)
		b = append(b, ',')
		b = append(b, g.word()...)
		b = append(b, ',')
		b = append(b, g.word()...)
		b = append(b, ',')
		b = strconv.AppendInt(b, g.r.Int64N(100000), 10)
		b = append(b, ',')
		b = strconv.AppendFloat(b, float64(g.r.IntN(1000000))/100, 'f', 2, 64)
		b = append(b, ',')
		b = append(b, components[g.r.IntN(len(components))]...)
	case styleLog:
		b = time.UnixMilli(g.ts).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, ' ')
		b = append(b, levels[g.r.IntN(len(levels))]...)
		b = append(b, " ["...)
		b = append(b, components[g.r.IntN(len(components))]...)
		b = append(b, "] "...)
		b = g.words(b, 4+g.r.IntN(10))
		b = append(b, " request_id="...)
		b = strconv.AppendUint(b, g.r.Uint64()&0xffffffffff, 16)
		b = append(b, " bytes="...)
		b = strconv.AppendInt(b, g.r.Int64N(1<<20), 10)
	}
	b = append(b, '\n')
	g.line = b
	return b
}

func (g *textGen) fill(p []byte) {
	for len(p) > 0 {
		if len(g.pend) == 0 {
			g.pend = g.nextLine()
		}
		n := copy(p, g.pend)
		g.pend = g.pend[n:]
		p = p[n:]
	}
}

// ---------------------------------------------------------------------------
// Mutation.

func mutateTree(root string, seed uint64) error {
	var targets []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() >= mutateThreshold {
			targets = append(targets, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("no file of at least %d bytes under %s", mutateThreshold, root)
	}
	sort.Strings(targets)
	var overwritten, inserted int64
	for _, p := range targets {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		h := fnv.New64a()
		io.WriteString(h, filepath.ToSlash(rel))
		o, i, err := mutateFile(p, mix(seed^h.Sum64()))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		overwritten += o
		inserted += i
	}
	fmt.Fprintf(os.Stderr, "gendata: mutated %d files: %d bytes overwritten, %d bytes inserted\n",
		len(targets), overwritten, inserted)
	return nil
}

// looksLikeText reports whether the first bytes of the file are printable
// ASCII, to pick the kind of the replacement bytes.
func looksLikeText(f *os.File) (bool, error) {
	buf := make([]byte, 4096)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	for _, c := range buf[:n] {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' {
			return false, nil
		}
	}
	return true, nil
}

func mutateFile(path string, seed uint64) (overwritten, inserted int64, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size := info.Size()
	text, err := looksLikeText(f)
	if err != nil {
		return 0, 0, err
	}
	k := kindRandom
	if text {
		k = kindText
	}
	r := newSource(seed)
	fill := newFiller(k, styleMixed, r.Uint64())

	// 1. Overwrite 5% of the file: one region in each quarter.
	const regions = 4
	total := size * 5 / 100
	quarter := size / regions
	for i := int64(0); i < regions; i++ {
		n := total / regions
		if i == regions-1 {
			n = total - n*(regions-1)
		}
		off := i*quarter + r.Int64N(quarter-n+1)
		buf := make([]byte, n)
		fill(buf)
		if _, err := f.WriteAt(buf, off); err != nil {
			return 0, 0, err
		}
		overwritten += n
	}

	// 2. Insert 1% of the size in the middle: shift the tail right, from
	// the end backwards, then write the new bytes into the gap.
	ins := size / 100
	mid := size / 2
	buf := make([]byte, 4*miB)
	for end := size; end > mid; {
		start := max(mid, end-int64(len(buf)))
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return 0, 0, err
		}
		if _, err := f.WriteAt(chunk, start+ins); err != nil {
			return 0, 0, err
		}
		end = start
	}
	for off := mid; off < mid+ins; {
		n := min(mid+ins-off, int64(len(buf)))
		fill(buf[:n])
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return 0, 0, err
		}
		off += n
	}
	return overwritten, ins, nil
}
