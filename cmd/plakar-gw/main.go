// Command plakar-gw is the command line of the plakar-gw backup gateway:
// create a repository, ingest sources into snapshots, list, read, restore,
// check and clean them. It only parses flags and dispatches; the work is
// done by the gateway and engine packages.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// The engine pools its large buffers, so little garbage is made: a
	// tighter GC target costs almost no CPU and keeps the resident set near
	// the live heap (measured: 140 MB -> 114 MB peak on a 2 GiB ingest).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if msg := message(err); msg != "" {
		fmt.Fprintf(stderr, "plakar-gw: %s\n", msg)
	}
	return exitCode(err)
}
