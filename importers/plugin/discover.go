package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
)

// DiscoverOptions says where to look for plugins.
type DiscoverOptions struct {
	// Dir holds plugin executables; a missing Dir holds none. Files that
	// are not executable, and names starting with "." or ending in
	// ".md"/".txt", are skipped.
	Dir string
	// Paths are plugin executables named explicitly.
	Paths []string
	// CacheFile remembers each plugin's Info (or failure) by path, size
	// and mtime, so that most runs start no plugin at all; "" for none.
	CacheFile string
	Logger    *slog.Logger
	// HandshakeTimeout bounds each plugin's start and Info.
	HandshakeTimeout time.Duration
	// Refresh ignores the cache (and then rewrites it).
	Refresh bool
}

// Found is one plugin executable and what it says about itself.
type Found struct {
	Path     string `json:"path"`
	Explicit bool   `json:"explicit"` // from Paths, not Dir
	Info     Info   `json:"info"`
	Err      error  `json:"-"`
}

// cacheFile is the cache's format; Protocol discards a cache written by a
// plakar-gw that speaks another protocol version.
type cacheFile struct {
	Protocol int                   `json:"protocol"`
	Plugins  map[string]cacheEntry `json:"plugins"`
}

type cacheEntry struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	Info    Info   `json:"info"`
	Err     string `json:"error,omitempty"`
}

// Discover finds the plugins of o and describes each one, from the cache
// when the file has not changed. A plugin that cannot be described is
// returned with Err set; the others are unaffected.
func Discover(ctx context.Context, o DiscoverOptions) []Found {
	var found []Found
	if o.Dir != "" {
		entries, err := os.ReadDir(o.Dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			found = append(found, Found{Path: o.Dir, Err: fmt.Errorf("plugins folder: %w", err)})
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".txt") {
				continue
			}
			p := filepath.Join(o.Dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				found = append(found, Found{Path: p})
			}
		}
	}
	for _, p := range o.Paths {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		// Named in both places: one plugin, an explicit one.
		if i := slices.IndexFunc(found, func(f Found) bool { return f.Path == p }); i >= 0 {
			found[i].Explicit = true
			continue
		}
		found = append(found, Found{Path: p, Explicit: true})
	}
	cache := map[string]cacheEntry{}
	if !o.Refresh {
		cache = readCache(o.CacheFile)
	}
	dirty := false
	for i := range found {
		f := &found[i]
		if f.Err != nil {
			continue
		}
		fi, err := os.Stat(f.Path)
		if err != nil {
			f.Err = fmt.Errorf("plugin %s: %w", f.Path, err)
			continue
		}
		if c, ok := cache[f.Path]; ok && c.Size == fi.Size() && c.ModTime == fi.ModTime().UnixNano() {
			f.Info = c.Info
			if c.Err != "" {
				f.Err = errors.New(c.Err)
			}
			continue
		}
		f.Info, f.Err = Describe(ctx, f.Path, o.Logger, o.HandshakeTimeout)
		if ctx.Err() != nil {
			continue // not the plugin's fault: ask again next time
		}
		c := cacheEntry{Size: fi.Size(), ModTime: fi.ModTime().UnixNano(), Info: f.Info}
		if f.Err != nil {
			c.Err = f.Err.Error()
		}
		cache[f.Path] = c
		dirty = true
	}
	if dirty {
		writeCache(o.CacheFile, cache, found)
	}
	return found
}

func readCache(name string) map[string]cacheEntry {
	cache := map[string]cacheEntry{}
	if name == "" {
		return cache
	}
	var cf cacheFile
	if b, err := os.ReadFile(name); err == nil {
		// A damaged cache is only a slower start: start afresh.
		if json.Unmarshal(b, &cf) == nil && cf.Protocol == wire.ProtocolVersion && cf.Plugins != nil {
			return cf.Plugins
		}
	}
	return cache
}

// writeCache keeps the entries of the plugins found now, atomically; a
// failure only costs the next run a few plugin starts.
func writeCache(name string, cache map[string]cacheEntry, found []Found) {
	if name == "" {
		return
	}
	keep := map[string]cacheEntry{}
	for _, f := range found {
		if c, ok := cache[f.Path]; ok {
			keep[f.Path] = c
		}
	}
	b, err := json.MarshalIndent(cacheFile{Protocol: wire.ProtocolVersion, Plugins: keep}, "", "  ")
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".plugins-*.json")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), name) != nil {
		os.Remove(tmp.Name())
	}
}

// SortFound orders plugins by name, then path, for listings.
func SortFound(found []Found) {
	slices.SortFunc(found, func(a, b Found) int {
		if c := strings.Compare(a.Info.Name, b.Info.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
}
