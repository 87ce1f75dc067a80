package tree

import (
	"context"
	"errors"
	"iter"
	"sort"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
)

// Node size bounds: a leaf is cut at MaxLeafEntries entries or MaxLeafBytes
// encoded bytes, whichever comes first, so that seeking in a huge directory
// decodes one small leaf; an inner node holds at most MaxFanout children.
const (
	MaxLeafEntries = 1024
	MaxLeafBytes   = 64 << 10
	MaxFanout      = 1024
)

// ErrNotFound reports a name absent from a directory.
var ErrNotFound = errors.New("tree: no such entry")

// Loader reads a node by id.
type Loader func(ctx context.Context, id blob.ID) (*Node, error)

// Saver stores a node and returns its id.
type Saver func(n *Node) (blob.ID, error)

// Build stores the nodes of a directory whose entries are sorted by Key and
// returns the root node's id. An empty directory is one empty leaf.
func Build(entries []Entry, save Saver) (blob.ID, error) {
	leaves, err := buildLeaves(entries, save)
	if err != nil {
		return blob.ID{}, err
	}
	level := leaves
	for len(level) > 1 {
		var next []Child
		for start := 0; start < len(level); start += MaxFanout {
			group := level[start:min(start+MaxFanout, len(level))]
			c, err := saveInner(group, save)
			if err != nil {
				return blob.ID{}, err
			}
			next = append(next, c)
		}
		level = next
	}
	return level[0].ID, nil
}

func buildLeaves(entries []Entry, save Saver) ([]Child, error) {
	var out []Child
	start, size := 0, 0
	flush := func(end int) error {
		n := &Node{Entries: entries[start:end:end]}
		if n.Entries == nil {
			n.Entries = []Entry{}
		}
		id, err := save(n)
		if err != nil {
			return err
		}
		first := ""
		if end > start {
			first = entries[start].Key()
		}
		out = append(out, Child{First: first, ID: id, Count: uint64(end - start)})
		start, size = end, 0
		return nil
	}
	for i := range entries {
		size += EntrySize(&entries[i])
		if i+1-start >= MaxLeafEntries || size >= MaxLeafBytes {
			if err := flush(i + 1); err != nil {
				return nil, err
			}
		}
	}
	if start < len(entries) || len(out) == 0 {
		if err := flush(len(entries)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func saveInner(group []Child, save Saver) (Child, error) {
	if len(group) == 1 {
		return group[0], nil
	}
	var count uint64
	for _, c := range group {
		count += c.Count
	}
	id, err := save(&Node{Children: append([]Child(nil), group...)})
	return Child{First: group[0].First, ID: id, Count: count}, err
}

// EntrySize is the encoded size of one entry.
func EntrySize(x *Entry) int {
	var e codec.Encoder
	encodeEntry(&e, x)
	return len(e.B)
}

// childFor returns the index of the child whose range may hold key.
func childFor(children []Child, key string) int {
	i := sort.Search(len(children), func(i int) bool { return children[i].First > key })
	return max(i-1, 0)
}

// Lookup finds the entry called name in the directory rooted at root.
func Lookup(ctx context.Context, load Loader, root blob.ID, name string) (*Entry, error) {
	for _, key := range []string{name, name + "/"} {
		e, err := find(ctx, load, root, key)
		if err != nil || e != nil {
			return e, err
		}
	}
	return nil, ErrNotFound
}

func find(ctx context.Context, load Loader, id blob.ID, key string) (*Entry, error) {
	for {
		n, err := load(ctx, id)
		if err != nil {
			return nil, err
		}
		if n.IsLeaf() {
			i := sort.Search(len(n.Entries), func(i int) bool { return n.Entries[i].Key() >= key })
			if i < len(n.Entries) && n.Entries[i].Key() == key {
				return &n.Entries[i], nil
			}
			return nil, nil
		}
		id = n.Children[childFor(n.Children, key)].ID
	}
}

// Iter yields the directory's entries whose Key sorts strictly after after
// ("" yields all), in key order. Seeking costs one node per level.
func Iter(ctx context.Context, load Loader, root blob.ID, after string) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		iterNode(ctx, load, root, after, yield)
	}
}

// iterNode returns false when the consumer stopped.
func iterNode(ctx context.Context, load Loader, id blob.ID, after string, yield func(*Entry, error) bool) bool {
	n, err := load(ctx, id)
	if err != nil {
		yield(nil, err)
		return false
	}
	if n.IsLeaf() {
		i := sort.Search(len(n.Entries), func(i int) bool { return n.Entries[i].Key() > after })
		for ; i < len(n.Entries); i++ {
			if !yield(&n.Entries[i], nil) {
				return false
			}
		}
		return true
	}
	for i := childFor(n.Children, after); i < len(n.Children); i++ {
		if !iterNode(ctx, load, n.Children[i].ID, after, yield) {
			return false
		}
	}
	return true
}
