// Command plakar-gw-tar is an importer plugin for plakar-gw that ingests
// the content of a tar archive (.tar, .tar.gz, .tar.zst) as if it were a
// folder: files, directories, symlinks, hardlinks, devices, FIFOs, owners,
// modes, times and extended attributes (PAX SCHILY.xattr). See README.md.
package main

import (
	"context"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "1.0.0"

func main() {
	sdk.Serve(sdk.Plugin{
		Name:        Type,
		Version:     version,
		Description: "the content of a .tar, .tar.gz or .tar.zst archive",
		Schemes:     []string{"tar"},
		Options: []sdk.Option{
			{Name: "tmpdir", Help: "where a compressed archive is unpacked for random access (default $TMPDIR)"},
		},
		New: func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
			return New(ctx, Config{Location: location, TempDir: opts["tmpdir"]})
		},
	})
}
