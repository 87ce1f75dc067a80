package gateway

import (
	"context"
	"fmt"
	"slices"

	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// importerFactories is the explicit registry of importers: type -> constructor
// from a location (a path for fs).
var importerFactories = map[string]func(ctx context.Context, location string) (importers.Importer, error){
	fsimporter.Type: func(ctx context.Context, location string) (importers.Importer, error) {
		return fsimporter.New(ctx, fsimporter.Config{Root: location})
	},
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

// NewImporter returns an importer of type typ reading location.
func NewImporter(ctx context.Context, typ, location string) (importers.Importer, error) {
	f, ok := importerFactories[typ]
	if !ok {
		return nil, fmt.Errorf("unknown importer %q (known: %v)", typ, ImporterTypes())
	}
	return f(ctx, location)
}
