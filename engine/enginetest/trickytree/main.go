// Command trickytree builds the engine's acceptance tree in a folder, for
// integration scripts: go run ./engine/enginetest/trickytree DIR [BIGSIZE [MANY]].
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

func main() {
	if len(os.Args) < 2 || len(os.Args) > 4 {
		fmt.Fprintln(os.Stderr, "usage: trickytree DIR [BIGSIZE_BYTES [MANY]]")
		os.Exit(2)
	}
	o := enginetest.Tricky{BigSize: 4 << 20, Many: 100}
	var err error
	if len(os.Args) > 2 {
		if o.BigSize, err = strconv.ParseInt(os.Args[2], 10, 64); err != nil {
			fmt.Fprintln(os.Stderr, "trickytree: BIGSIZE:", err)
			os.Exit(2)
		}
	}
	if len(os.Args) > 3 {
		if o.Many, err = strconv.Atoi(os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "trickytree: MANY:", err)
			os.Exit(2)
		}
	}
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "trickytree:", err)
		os.Exit(1)
	}
	xattrs, err := enginetest.TrickyTree(os.Args[1], o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trickytree:", err)
		os.Exit(1)
	}
	if !xattrs {
		fmt.Fprintln(os.Stderr, "trickytree: this filesystem refuses user xattrs; the tree has none")
	}
}
