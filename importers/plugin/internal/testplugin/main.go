// Command testplugin is the plugin the host's tests run: it serves the fs
// importer on the location, and misbehaves on purpose as PLUGIN_MODE
// says, to check that the host turns each fault into a clear error.
//
//	(unset)    a well-behaved fs importer
//	crash      exits with status 3 after some records of the scan
//	hang       sends the first records of the scan, then nothing
//	hangopen   Open and ReadSmall never answer
//	nosmall    does not implement ReadSmall (an older or simpler plugin)
//	smallsizes reports every regular file as 1 byte long in the scan
//	countsmall logs "readsmall N" on stderr for each ReadSmall of N files
//	malformed  sends a record of an unknown file type
//	dotdot     sends the path "/sub/../../etc/passwd"
//	unordered  sends a file before its directory
//	version    speaks protocol version 99
//	silent     never prints its handshake
//	notplugin  prints something else than the handshake
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
	"github.com/plakar-gw/plakar-gw/importers/plugin/sdk"
)

func main() {
	mode := os.Getenv("PLUGIN_MODE")
	switch mode {
	case "silent":
		time.Sleep(time.Hour)
	case "notplugin":
		fmt.Println("hello, I am not a plugin")
		time.Sleep(time.Hour)
	}
	srv := sdk.NewServer(sdk.Plugin{
		Name: "localfs", Version: "0.1", Description: "the fs importer, as a plugin (tests and benchmarks)",
		Schemes: []string{"localfs"},
		Options: []sdk.Option{{Name: "note", Help: "ignored; shows that options reach the plugin"}},
		New: func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
			if v, ok := opts["note"]; ok {
				fmt.Fprintf(os.Stderr, "note: %s\n", v)
			}
			return fsimporter.New(ctx, fsimporter.Config{Root: location})
		},
	})
	if mode != "" {
		srv = &faulty{ImporterServer: srv, mode: mode}
	}
	sdk.ServeServer(srv)
}

type faulty struct {
	pluginpb.ImporterServer
	mode string
}

func (f *faulty) Info(ctx context.Context, req *pluginpb.InfoRequest) (*pluginpb.InfoResponse, error) {
	resp, err := f.ImporterServer.Info(ctx, req)
	if f.mode == "version" && resp != nil {
		resp.ProtocolVersion = 99
	}
	return resp, err
}

func rec(p string, t pluginpb.FileType) *pluginpb.Record {
	return &pluginpb.Record{Path: []byte(p), Type: t, Perm: 0o755}
}

func (f *faulty) Scan(req *pluginpb.ScanRequest, stream grpc.ServerStreamingServer[pluginpb.ScanResponse]) error {
	dir, file := pluginpb.FileType_FILE_TYPE_DIRECTORY, pluginpb.FileType_FILE_TYPE_REGULAR
	send := func(recs ...*pluginpb.Record) error {
		return stream.Send(&pluginpb.ScanResponse{Records: recs})
	}
	start := []*pluginpb.Record{rec("/", dir), rec("/sub", dir), rec("/sub/a", file)}
	switch f.mode {
	case "crash":
		send(start...)
		time.Sleep(50 * time.Millisecond)
		fmt.Fprintln(os.Stderr, "testplugin: crashing on purpose")
		os.Exit(3)
	case "hang":
		send(start...)
		<-stream.Context().Done()
		time.Sleep(time.Hour) // deaf to cancellation too
	case "malformed":
		return send(append(start, &pluginpb.Record{Path: []byte("/sub/b"), Type: 42})...)
	case "dotdot":
		return send(append(start, rec("/sub/../../etc/passwd", file))...)
	case "unordered":
		return send(rec("/", dir), rec("/x/y", file), rec("/x", dir))
	case "smallsizes":
		return f.ImporterServer.Scan(req, sizeLiar{stream})
	}
	return f.ImporterServer.Scan(req, stream)
}

// sizeLiar makes every file look small: the host must still read it whole.
type sizeLiar struct {
	grpc.ServerStreamingServer[pluginpb.ScanResponse]
}

func (s sizeLiar) Send(m *pluginpb.ScanResponse) error {
	for _, r := range m.Records {
		if r.Type == pluginpb.FileType_FILE_TYPE_REGULAR && r.Size > 1 {
			r.Size = 1
		}
	}
	return s.ServerStreamingServer.Send(m)
}

func (f *faulty) ReadSmall(ctx context.Context, req *pluginpb.ReadSmallRequest) (*pluginpb.ReadSmallResponse, error) {
	switch f.mode {
	case "hangopen":
		time.Sleep(time.Hour)
	case "nosmall":
		return nil, status.Error(codes.Unimplemented, "no ReadSmall here")
	case "countsmall":
		fmt.Fprintf(os.Stderr, "readsmall %d\n", len(req.Paths))
	}
	return f.ImporterServer.ReadSmall(ctx, req)
}

func (f *faulty) Open(req *pluginpb.OpenRequest, stream grpc.ServerStreamingServer[pluginpb.OpenResponse]) error {
	if f.mode == "hangopen" {
		time.Sleep(time.Hour)
	}
	return f.ImporterServer.Open(req, stream)
}
