package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin"
)

// pluginState remembers what the last registerPlugins added, so that a
// second Load in the same process replaces it instead of seeing its own
// plugins as conflicts.
var pluginState struct {
	sync.Mutex
	types   []string
	schemes []string
}

// PluginInfo is one plugin executable found through the configuration.
type PluginInfo struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description,omitempty"`
	Schemes     []string `json:"schemes"`
	Options     []string `json:"options,omitempty"`
	Path        string   `json:"path"`
	// Explicit is true for plugins.paths, false for plugins.dir.
	Explicit bool `json:"explicit"`
	// Error says why the plugin is not usable; "" when it is registered.
	Error string `json:"error,omitempty"`
}

// registerPlugins finds the importer plugins of the configuration
// (plugins.dir, plugins.paths) and adds their importer types and URL
// schemes to the registry. A plugin named in plugins.paths that cannot be
// used is an error; one in the folder is skipped with a warning, so that
// a broken file there does not stop every command.
func registerPlugins(c *Config) error {
	pluginState.Lock()
	defer pluginState.Unlock()
	for _, t := range pluginState.types {
		delete(importerFactories, t)
	}
	for _, s := range pluginState.schemes {
		delete(importerSchemes, s)
	}
	pluginState.types, pluginState.schemes = nil, nil
	for _, e := range resolvePlugins(discoverPlugins(context.Background(), c, false)) {
		if e.err != nil {
			if e.Explicit {
				return fmt.Errorf("plugins.paths: %w", e.err)
			}
			slog.Warn("importer plugin skipped", "path", e.Path, "error", e.err)
			continue
		}
		path := e.Path
		importerFactories[e.Info.Name] = func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
			return plugin.New(ctx, plugin.Config{Path: path, Location: location, Options: opts, Logger: slog.Default()})
		}
		pluginState.types = append(pluginState.types, e.Info.Name)
		for _, s := range e.Info.Schemes {
			importerSchemes[s] = e.Info.Name
			pluginState.schemes = append(pluginState.schemes, s)
		}
	}
	return nil
}

// ListPlugins describes every plugin the configuration finds, usable or
// not, sorted by name. refresh starts each one again instead of trusting
// the cache.
func ListPlugins(ctx context.Context, c *Config, refresh bool) []PluginInfo {
	found := discoverPlugins(ctx, c, refresh)
	plugin.SortFound(found)
	pluginState.Lock()
	entries := resolvePlugins(found)
	pluginState.Unlock()
	var out []PluginInfo
	for _, e := range entries {
		pi := PluginInfo{Name: e.Info.Name, Version: e.Info.Version, Description: e.Info.Description,
			Schemes: e.Info.Schemes, Path: e.Path, Explicit: e.Explicit}
		for _, o := range e.Info.Options {
			pi.Options = append(pi.Options, o.Name)
		}
		if e.err != nil {
			pi.Error = e.err.Error()
		}
		out = append(out, pi)
	}
	return out
}

func discoverPlugins(ctx context.Context, c *Config, refresh bool) []plugin.Found {
	if c.Plugins.Dir == "" && len(c.Plugins.Paths) == 0 {
		return nil
	}
	return plugin.Discover(ctx, plugin.DiscoverOptions{
		Dir: c.Plugins.Dir, Paths: c.Plugins.Paths, CacheFile: pluginCache(c), Refresh: refresh,
	})
}

// pluginCache sits with the repository caches (see engine.Options).
func pluginCache(c *Config) string {
	dir := c.Repository.CacheDir
	if dir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(d, "plakar-gw")
	}
	return filepath.Join(dir, "plugins.json")
}

type pluginEntry struct {
	plugin.Found
	err error
}

// resolvePlugins decides which plugins may register: explicit paths
// first, then the folder; a name or scheme already taken (by a built-in
// importer or an earlier plugin) makes the later plugin unusable.
func resolvePlugins(found []plugin.Found) []pluginEntry {
	order := slices.Clone(found)
	slices.SortStableFunc(order, func(a, b plugin.Found) int {
		switch {
		case a.Explicit == b.Explicit:
			return 0
		case a.Explicit:
			return -1
		}
		return 1
	})
	taken := map[string]string{} // name -> who has it
	for t := range importerFactories {
		if !slices.Contains(pluginState.types, t) {
			taken[t] = "the built-in importer " + t
		}
	}
	schemes := map[string]string{}
	for s, t := range importerSchemes {
		if !slices.Contains(pluginState.schemes, s) {
			schemes[s] = "the built-in importer " + t
		}
	}
	errs := map[string]error{}
	for _, f := range order {
		if f.Err != nil {
			errs[f.Path] = f.Err
			continue
		}
		if who, ok := taken[f.Info.Name]; ok {
			errs[f.Path] = fmt.Errorf("plugin %s (%s): the name %q is taken by %s", f.Info.Name, f.Path, f.Info.Name, who)
			continue
		}
		if i := slices.IndexFunc(f.Info.Schemes, func(s string) bool { _, ok := schemes[s]; return ok }); i >= 0 {
			s := f.Info.Schemes[i]
			errs[f.Path] = fmt.Errorf("plugin %s (%s): the scheme %s:// is taken by %s", f.Info.Name, f.Path, s, schemes[s])
			continue
		}
		who := fmt.Sprintf("the plugin %s", f.Path)
		taken[f.Info.Name] = who
		for _, s := range f.Info.Schemes {
			schemes[s] = who
		}
	}
	out := make([]pluginEntry, len(found))
	for i, f := range found {
		out[i] = pluginEntry{Found: f, err: errs[f.Path]}
	}
	return out
}
