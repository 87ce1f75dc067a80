package tree

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func id(s string) blob.ID { return blob.ID(sha256.Sum256([]byte(s))) }

// sampleEntries has one entry of every kind, sorted by key.
func sampleEntries() []Entry {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	return []Entry{
		{Name: "a", Mode: 0o644, ModTime: t0.UnixNano(), UID: 1000, GID: 100, User: "me", Group: "staff",
			Size: 30, Inode: 3, Nlink: 2, Content: id("content a"),
			Chunks: []Chunk{{ID: id("c1"), Size: 10}, {ID: id("c2"), Size: 20}},
			Xattrs: []Xattr{{Name: "user.a", Value: []byte{0, 1, 2}}, {Name: "user.empty"}}},
		{Name: "a-b", Mode: 0o600, ModTime: -5, Content: id("empty"), Chunks: []Chunk{}},
		{Name: "a.b", Mode: fs.ModeSymlink | 0o777, ModTime: 1, Target: "../x/y"},
		{Name: "a0", Mode: fs.ModeDir | 0o755, ModTime: 2, Subtree: id("subtree"), Summary: vfs.Summary{
			Self: vfs.Counts{Files: 1, Dirs: 2, Symlinks: 3, Others: 4, Bytes: 5, Errors: 6,
				OldestMtime: t0, NewestMtime: t0.Add(time.Hour), LargestFile: "/a0/big", LargestSize: 1 << 40},
			Subtree: vfs.Counts{Files: 10, Dirs: 20, Bytes: 1 << 50, LargestFile: "/a0/x/y", LargestSize: 7},
		}},
		{Name: "dev", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o620, Rdev: 0x8801},
		{Name: "disk", Mode: fs.ModeDevice | 0o660, Rdev: 1<<64 - 1},
		{Name: "fifo", Mode: fs.ModeNamedPipe | 0o600},
		{Name: "sock", Mode: fs.ModeSocket | 0o700, Xattrs: []Xattr{{Name: "security.x", Value: []byte("v")}}},
		{Name: "z", Mode: fs.ModeDir | fs.ModeSetgid | 0o2775, Subtree: id("z")},
		{Name: "ünïcode ✓", Mode: 0o644, Content: id("u"), Chunks: []Chunk{{ID: id("u1"), Size: 1<<32 - 1}}, Size: 1<<32 - 1},
	}
}

func TestEncodeDecodeLeaf(t *testing.T) {
	entries := sampleEntries()
	if !slices.IsSortedFunc(entries, func(a, b Entry) int { return strings.Compare(a.Key(), b.Key()) }) {
		t.Fatal("sample not sorted")
	}
	n := &Node{Entries: entries}
	got, err := Decode(Encode(n))
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsLeaf() || len(got.Entries) != len(entries) {
		t.Fatalf("got %d entries", len(got.Entries))
	}
	for i := range entries {
		if !reflect.DeepEqual(got.Entries[i], entries[i]) {
			t.Fatalf("entry %d:\n got %+v\nwant %+v", i, got.Entries[i], entries[i])
		}
		if EntrySize(&entries[i]) <= 0 {
			t.Fatal("EntrySize")
		}
	}
	// An empty leaf.
	got, err = Decode(Encode(&Node{Entries: []Entry{}}))
	if err != nil || !got.IsLeaf() || len(got.Entries) != 0 {
		t.Fatalf("empty leaf: %+v %v", got, err)
	}
}

// Fields that do not belong to an entry's kind are not stored.
func TestEncodeDropsForeignFields(t *testing.T) {
	e := Entry{Name: "l", Mode: fs.ModeSymlink, Target: "t", Rdev: 5, Size: 9, Content: id("x"), Subtree: id("y")}
	got, err := Decode(Encode(&Node{Entries: []Entry{e}}))
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{Name: "l", Mode: fs.ModeSymlink, Target: "t"}
	if !reflect.DeepEqual(got.Entries[0], want) {
		t.Fatalf("got %+v", got.Entries[0])
	}
}

func TestEncodeDecodeInner(t *testing.T) {
	n := &Node{Children: []Child{
		{First: "", ID: id("0"), Count: 1024},
		{First: "a-b", ID: id("1"), Count: 1},
		{First: "a/", ID: id("2"), Count: 1 << 40},
		{First: "a0", ID: id("3"), Count: 0},
	}}
	got, err := Decode(Encode(n))
	if err != nil {
		t.Fatal(err)
	}
	if got.IsLeaf() || !reflect.DeepEqual(got, n) {
		t.Fatalf("got %+v", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	file := func(name string) Entry { return Entry{Name: name, Mode: 0o644, Chunks: []Chunk{}} }
	dir := func(name string) Entry { return Entry{Name: name, Mode: fs.ModeDir} }
	for name, n := range map[string]*Node{
		"out of order":      {Entries: []Entry{file("b"), file("a")}},
		"duplicate":         {Entries: []Entry{file("a"), file("a")}},
		"dir key order":     {Entries: []Entry{dir("a"), file("a0")}[0:2:2]}, // "a/" < "a0": fine, reversed below
		"empty name":        {Entries: []Entry{file("")}},
		"dot":               {Entries: []Entry{dir(".")}},
		"dotdot":            {Entries: []Entry{dir("..")}},
		"slash":             {Entries: []Entry{file("a/b")}},
		"nul":               {Entries: []Entry{file("a\x00")}},
		"children order":    {Children: []Child{{First: "b"}, {First: "a"}}},
		"children dup":      {Children: []Child{{First: "a"}, {First: "a"}}},
		"empty inner":       {Children: []Child{}},
		"chunk sum":         {Entries: []Entry{{Name: "f", Size: 5, Chunks: []Chunk{{Size: 4}}}}},
		"size without data": {Entries: []Entry{{Name: "f", Size: 1}}},
	} {
		if name == "dir key order" {
			// a file "a0" must come after the directory "a" (key "a/").
			n.Entries[0], n.Entries[1] = n.Entries[1], n.Entries[0]
		}
		if _, err := Decode(Encode(n)); !errors.Is(err, codec.ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	enc := Encode(&Node{Entries: sampleEntries()})
	for n := 0; n < len(enc); n++ {
		if _, err := Decode(enc[:n]); !errors.Is(err, codec.ErrFormat) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	for _, b := range [][]byte{
		append(bytes.Clone(enc), 0),
		{'X', 0},
		{},
		{nodeLeaf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		{nodeInner, 0xff, 0xff, 0x03},
	} {
		if _, err := Decode(b); !errors.Is(err, codec.ErrFormat) {
			t.Fatalf("%x: %v", b, err)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "...": true, ".a": true, "a b": true, "\xff": true,
		"": false, ".": false, "..": false, "/": false, "a/": false, "\x00": false,
	} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) != %v", name, want)
		}
	}
}

// store is an in-memory node store: the saver encodes, the loader decodes
// (and memoizes), so trees built in tests go through the real format.
type store struct {
	enc   map[blob.ID][]byte
	dec   map[blob.ID]*Node
	loads atomic.Int64
}

func newStore() *store { return &store{enc: map[blob.ID][]byte{}, dec: map[blob.ID]*Node{}} }

func (s *store) save(n *Node) (blob.ID, error) {
	b := Encode(n)
	i := blob.ID(sha256.Sum256(b))
	s.enc[i] = b
	return i, nil
}

func (s *store) load(_ context.Context, i blob.ID) (*Node, error) {
	s.loads.Add(1)
	if n, ok := s.dec[i]; ok {
		return n, nil
	}
	b, ok := s.enc[i]
	if !ok {
		return nil, fmt.Errorf("node %s: %w", i.Short(), fs.ErrNotExist)
	}
	n, err := Decode(b)
	if err != nil {
		return nil, err
	}
	s.dec[i] = n
	return n, nil
}

// bigDir returns n entries with unique names sorted by key: files and
// directories, names sharing prefixes around '-', '.', '/' and '0', so that
// the "name/" rule for directories matters.
func bigDir(n int) []Entry {
	rng := rand.New(rand.NewPCG(42, 42))
	seen := map[string]bool{}
	var out []Entry
	add := func(name string, dir bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		e := Entry{Name: name, Mode: 0o644, ModTime: int64(len(out)), Content: id(name), Chunks: []Chunk{}}
		if dir {
			e = Entry{Name: name, Mode: fs.ModeDir | 0o755, Subtree: id(name)}
		}
		out = append(out, e)
	}
	// The classic trap: "a" (file), "a-b", "a.b", then dir "a0" whose key
	// "a0/" sorts after "a0-x" but before "a00".
	add("a", false)
	add("a-b", false)
	add("a.b", false)
	add("a0", true)
	add("a0-x", false)
	add("a00", false)
	add("b", true)
	add("b-", false)
	add("b.", true)
	add("b0", false)
	const alphabet = "-./0Aaz_~"
	for len(out) < n {
		l := 1 + rng.IntN(6)
		var sb strings.Builder
		for range l {
			c := alphabet[rng.IntN(len(alphabet))]
			if c == '/' {
				c = '.'
			}
			sb.WriteByte(c)
		}
		name := sb.String()
		if !ValidName(name) {
			continue
		}
		if rng.IntN(4) == 0 {
			name = fmt.Sprintf("%s%07d", name, len(out))
		}
		add(name, rng.IntN(3) == 0)
	}
	out = out[:n]
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

func keys(entries []Entry) []string {
	out := make([]string, len(entries))
	for i := range entries {
		out[i] = entries[i].Key()
	}
	return out
}

func collect(t *testing.T, s *store, root blob.ID, after string, limit int) []string {
	t.Helper()
	var out []string
	for e, err := range Iter(context.Background(), s.load, root, after) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Key())
		if len(out) == limit {
			break
		}
	}
	return out
}

func TestBuildLookupIter(t *testing.T) {
	const n = 100_000
	entries := bigDir(n)
	all := keys(entries)
	if !slices.IsSorted(all) {
		t.Fatal("keys not sorted")
	}
	// Directories sort as "name/": a0/ after a0-x, before a00.
	pos := -1
	for _, k := range []string{"a", "a-b", "a.b", "a0-x", "a0/", "a00", "b-", "b./", "b/", "b0"} {
		i := slices.Index(all, k)
		if i <= pos {
			t.Fatalf("key %q at %d, not after the previous one at %d", k, i, pos)
		}
		pos = i
	}
	s := newStore()
	root, err := Build(entries, s.save)
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, s, root, n)
	ctx := context.Background()

	// Iter from "" yields everything; every 997th key (and keys that do
	// not exist around it) yields the exact tail.
	if got := collect(t, s, root, "", -1); !slices.Equal(got, all) {
		t.Fatalf("full iteration: %d keys, want %d", len(got), len(all))
	}
	for i := 0; i < n; i += 997 {
		k := all[i]
		if got := collect(t, s, root, k, -1); !slices.Equal(got, all[i+1:]) {
			t.Fatalf("after %q: %d keys, want %d", k, len(got), n-i-1)
		}
		for _, between := range []string{k + "\x00", strings.TrimSuffix(k, "/") + "-", k[:len(k)-1]} {
			j, _ := slices.BinarySearch(all, between)
			for j < n && all[j] <= between {
				j++
			}
			want := all[j:min(j+1000, n)]
			if got := collect(t, s, root, between, 1000); !slices.Equal(got, want) {
				t.Fatalf("after %q: got %d keys starting %q, want %d starting %q", between, len(got), first(got), len(want), first(want))
			}
		}
	}
	if got := collect(t, s, root, all[n-1], -1); len(got) != 0 {
		t.Fatalf("after the last key: %q", got)
	}
	if got := collect(t, s, root, "\xff", -1); len(got) != 0 {
		t.Fatalf("after \\xff: %q", got)
	}

	// Lookup by name, files and directories alike, and a seek costs one
	// node per level.
	for i := 0; i < n; i += 101 {
		e := &entries[i]
		s.loads.Store(0)
		got, err := Lookup(ctx, s.load, root, e.Name)
		if err != nil {
			t.Fatalf("lookup %q: %v", e.Name, err)
		}
		if got.Name != e.Name || got.Mode != e.Mode || got.Subtree != e.Subtree || got.Content != e.Content {
			t.Fatalf("lookup %q: got %+v", e.Name, got)
		}
		if l := s.loads.Load(); l > 4 { // two levels, at most two keys tried
			t.Fatalf("lookup %q loaded %d nodes", e.Name, l)
		}
	}
	for _, name := range []string{"a0", "b", "b.", "a", "a-b", "a.b", "a00"} {
		got, err := Lookup(ctx, s.load, root, name)
		if err != nil || got.Name != name {
			t.Fatalf("lookup %q: %+v %v", name, got, err)
		}
	}
	for _, name := range []string{"nope\x01", "a0\x01", "zzzzzzzzzz", "a0//"} {
		if _, err := Lookup(ctx, s.load, root, name); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lookup %q: %v", name, err)
		}
	}
	s.loads.Store(0)
	if got := collect(t, s, root, all[n/2], 10); len(got) != 10 {
		t.Fatal("short")
	}
	if l := s.loads.Load(); l > 3 {
		t.Fatalf("seeking and reading 10 entries loaded %d nodes", l)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// checkShape walks the whole tree and checks the bounds and counts.
func checkShape(t *testing.T, s *store, root blob.ID, want int) {
	t.Helper()
	var walk func(id blob.ID, depth int) (count uint64, firstKey string, depths []int)
	walk = func(id blob.ID, depth int) (uint64, string, []int) {
		n, err := s.load(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if n.IsLeaf() {
			if len(n.Entries) > MaxLeafEntries {
				t.Fatalf("leaf of %d entries", len(n.Entries))
			}
			if len(n.Entries) == 0 {
				return 0, "", []int{depth}
			}
			return uint64(len(n.Entries)), n.Entries[0].Key(), []int{depth}
		}
		if len(n.Children) > MaxFanout || len(n.Children) < 2 {
			t.Fatalf("inner node of %d children", len(n.Children))
		}
		var total uint64
		var depths []int
		for i, c := range n.Children {
			cnt, fk, d := walk(c.ID, depth+1)
			if cnt != c.Count || fk != c.First {
				t.Fatalf("child %d: count %d first %q, recorded %d %q", i, cnt, fk, c.Count, c.First)
			}
			total += cnt
			depths = append(depths, d...)
		}
		return total, n.Children[0].First, depths
	}
	total, _, depths := walk(root, 0)
	if total != uint64(want) {
		t.Fatalf("tree holds %d entries, want %d", total, want)
	}
	for _, d := range depths {
		if d != depths[0] {
			t.Fatalf("leaves at depths %d and %d", depths[0], d)
		}
	}
}

func TestBuildSmall(t *testing.T) {
	s := newStore()
	root, err := Build(nil, s.save)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.load(context.Background(), root)
	if err != nil || !n.IsLeaf() || len(n.Entries) != 0 {
		t.Fatalf("empty dir: %+v %v", n, err)
	}
	if got := collect(t, s, root, "", -1); len(got) != 0 {
		t.Fatal("empty dir yields entries")
	}
	if _, err := Lookup(context.Background(), s.load, root, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	for _, size := range []int{1, MaxLeafEntries - 1, MaxLeafEntries, MaxLeafEntries + 1, 2 * MaxLeafEntries} {
		entries := bigDir(size)
		s := newStore()
		root, err := Build(entries, s.save)
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, s, root, size)
		if got := collect(t, s, root, "", -1); !slices.Equal(got, keys(entries)) {
			t.Fatalf("%d entries: iteration differs", size)
		}
	}
}

// Large entries cut leaves by bytes; enough of them make a three-level tree.
func TestBuildThreeLevels(t *testing.T) {
	big := []Xattr{{Name: "user.big", Value: make([]byte, MaxLeafBytes/2+1)}}
	var entries []Entry
	for i := 0; i < 2*MaxFanout+10; i++ {
		entries = append(entries, Entry{Name: fmt.Sprintf("f%06d", i), Mode: fs.ModeSymlink, Target: "x", Xattrs: big})
	}
	s := &nodeStore{nodes: map[blob.ID]*Node{}}
	root, err := Build(entries, s.save)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for id := root; ; depth++ {
		n := s.nodes[id]
		if n.IsLeaf() {
			if len(n.Entries) != 2 {
				t.Fatalf("leaf of %d big entries", len(n.Entries))
			}
			break
		}
		id = n.Children[len(n.Children)-1].ID
	}
	if depth != 2 {
		t.Fatalf("depth %d, want 2", depth)
	}
	ctx := context.Background()
	for _, i := range []int{0, 1, 2, 1023, 1024, 1025, 2047, 2048, len(entries) - 1} {
		name := entries[i].Name
		if e, err := Lookup(ctx, s.load, root, name); err != nil || e.Name != name {
			t.Fatalf("lookup %s: %v", name, err)
		}
		var got []string
		for e, err := range Iter(ctx, s.load, root, name) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Name)
		}
		if len(got) != len(entries)-i-1 || (len(got) > 0 && got[0] != entries[i+1].Name) {
			t.Fatalf("after %s: %d entries", name, len(got))
		}
	}
}

// nodeStore keeps nodes without encoding them (for trees too big to encode
// cheaply).
type nodeStore struct{ nodes map[blob.ID]*Node }

func (s *nodeStore) save(n *Node) (blob.ID, error) {
	var i blob.ID
	i[0], i[1], i[2] = byte(len(s.nodes)), byte(len(s.nodes)>>8), byte(len(s.nodes)>>16)
	i[3] = 1
	s.nodes[i] = n
	return i, nil
}

func (s *nodeStore) load(_ context.Context, i blob.ID) (*Node, error) {
	if n, ok := s.nodes[i]; ok {
		return n, nil
	}
	return nil, fs.ErrNotExist
}

func TestErrorsPropagate(t *testing.T) {
	entries := bigDir(5000)
	s := newStore()
	root, err := Build(entries, s.save)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	calls := 0
	failing := func(ctx context.Context, i blob.ID) (*Node, error) {
		calls++
		if calls > 2 {
			return nil, boom
		}
		return s.load(ctx, i)
	}
	var got error
	n := 0
	for _, err := range Iter(context.Background(), failing, root, "") {
		if err != nil {
			got = err
			continue // the iterator must stop by itself after an error
		}
		n++
	}
	if !errors.Is(got, boom) || n != MaxLeafEntries && n == 0 {
		t.Fatalf("iter: %d entries then %v", n, got)
	}
	if _, err := Lookup(context.Background(), func(context.Context, blob.ID) (*Node, error) { return nil, boom }, root, "a"); !errors.Is(err, boom) {
		t.Fatalf("lookup: %v", err)
	}
	saveErr := errors.New("disk full")
	if _, err := Build(entries, func(*Node) (blob.ID, error) { return blob.ID{}, saveErr }); !errors.Is(err, saveErr) {
		t.Fatalf("build: %v", err)
	}
}

func FuzzTreeDecode(f *testing.F) {
	leaf := Encode(&Node{Entries: sampleEntries()})
	f.Add(leaf)
	f.Add(Encode(&Node{Entries: []Entry{}}))
	f.Add(Encode(&Node{Children: []Child{{First: "", ID: id("0"), Count: 3}, {First: "b", ID: id("1"), Count: 4}}}))
	f.Add(leaf[:len(leaf)/2])
	for _, i := range []int{1, 5, 20, 100} {
		b := bytes.Clone(leaf)
		b[i] ^= 0x10
		f.Add(b)
	}
	for _, e := range sampleEntries() {
		f.Add(Encode(&Node{Entries: []Entry{e}}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Decode(b)
		if err != nil {
			if !errors.Is(err, codec.ErrFormat) {
				t.Fatalf("error %v does not wrap codec.ErrFormat", err)
			}
			return
		}
		for i := range n.Entries {
			e := &n.Entries[i]
			if !ValidName(e.Name) || (i > 0 && n.Entries[i-1].Key() >= e.Key()) {
				t.Fatalf("accepted entry %d %q", i, e.Name)
			}
			if e.IsRegular() {
				var sum int64
				for _, c := range e.Chunks {
					sum += int64(c.Size)
				}
				if sum != e.Size || e.Size < 0 {
					t.Fatalf("file %q: size %d, chunks %d", e.Name, e.Size, sum)
				}
			}
		}
		if !n.IsLeaf() && len(n.Children) == 0 {
			t.Fatal("empty inner node accepted")
		}
		again, err := Decode(Encode(n))
		if err != nil {
			t.Fatalf("re-encoded node fails: %v", err)
		}
		if !reflect.DeepEqual(again, n) {
			t.Fatalf("round trip differs:\n%+v\n%+v", n, again)
		}
	})
}
