package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// ImporterFactory builds an importer reading location (a path for fs, a
// URL for network sources) with the job's options (importer-specific keys:
// credentials files, TLS, concurrency...). An unknown option is an error.
type ImporterFactory func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error)

// importerFactories is the explicit registry of importers by type.
var importerFactories = map[string]ImporterFactory{
	fsimporter.Type: func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
		if err := noOptions(fsimporter.Type, opts); err != nil {
			return nil, err
		}
		return fsimporter.New(ctx, fsimporter.Config{Root: location})
	},
}

// importerSchemes maps a URL scheme to the importer that reads it; a
// location without a known scheme is a local path (fs).
var importerSchemes = map[string]string{}

func noOptions(typ string, opts map[string]string) error {
	for k := range opts {
		return fmt.Errorf("importer %s takes no option %q", typ, k)
	}
	return nil
}

// ImporterTypes lists the registered importer types, sorted.
func ImporterTypes() []string {
	var out []string
	for t := range importerFactories {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// ImporterFor says which importer reads location: the one registered for
// its URL scheme, else fs.
func ImporterFor(location string) string {
	if scheme, _, ok := strings.Cut(location, "://"); ok {
		if t, ok := importerSchemes[strings.ToLower(scheme)]; ok {
			return t
		}
	}
	return fsimporter.Type
}

// NewImporter returns an importer of type typ reading location; typ ""
// picks it from the location (ImporterFor).
func NewImporter(ctx context.Context, typ, location string, opts map[string]string) (importers.Importer, error) {
	if typ == "" {
		typ = ImporterFor(location)
	}
	f, ok := importerFactories[typ]
	if !ok {
		return nil, fmt.Errorf("unknown importer %q (known: %v)", typ, ImporterTypes())
	}
	return f(ctx, location, opts)
}
