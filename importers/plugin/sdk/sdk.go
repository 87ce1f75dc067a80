// Package sdk serves an importers.Importer as a plakar-gw importer plugin:
// a plugin author implements the interface and calls Serve from main. It
// owns the plugin's side of the protocol in importer.proto: the
// handshake, the gRPC server on the host's Unix socket, batching scan
// records, chunking file content, and exiting when the host goes away.
package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"google.golang.org/grpc"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// Plugin describes an importer plugin.
type Plugin struct {
	// Name is the importer type, as used in "importer: NAME" of a job:
	// lowercase letters, digits, '-' and '_'.
	Name        string
	Version     string
	Description string // one line
	// Schemes are the URL schemes that select this importer in
	// "plakar-gw ingest SCHEME://...".
	Schemes []string
	// Options lists what New accepts; the host refuses any other.
	Options []Option
	// New builds the importer for a location (as the user wrote it) and
	// its options. It is called once per plugin process.
	New func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error)
}

// Option is one option a plugin accepts.
type Option struct {
	Name, Help string
}

// Serve runs the plugin and exits the process when the host closes it or
// goes away. It never returns.
func Serve(p Plugin) {
	ServeServer(NewServer(p))
}

// ServeServer serves a pluginpb.ImporterServer; Serve is the usual entry
// point. It is exported for plugins that speak the protocol themselves.
func ServeServer(srv pluginpb.ImporterServer) {
	if os.Getenv(wire.EnvMagic) != wire.Magic {
		fmt.Fprintf(os.Stderr, "%s is a plakar-gw importer plugin: put it in the plugins folder "+
			"(or plugins.paths) and see \"plakar-gw plugin list\"; it is not run by hand.\n", os.Args[0])
		os.Exit(1)
	}
	sock := os.Getenv(wire.EnvSocket)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "plugin: %v\n", err)
		os.Exit(1)
	}
	var gs *grpc.Server
	// After Close the process has nothing left to do. GracefulStop waits
	// for that very call to finish, hence the goroutine.
	stopAfterClose := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if info.FullMethod == pluginpb.Importer_Close_FullMethodName {
			go gs.GracefulStop()
		}
		return resp, err
	}
	gs = grpc.NewServer(
		grpc.MaxRecvMsgSize(wire.MaxMessage),
		grpc.InitialWindowSize(wire.StreamWindow),
		grpc.InitialConnWindowSize(wire.ConnWindow),
		grpc.UnaryInterceptor(stopAfterClose),
		// Fewer, larger writes to the socket: file content dominates.
		grpc.WriteBufferSize(wire.ChunkSize),
		grpc.ForceServerCodecV2(content),
	)
	installed.Store(true)
	pluginpb.RegisterImporterServer(gs, srv)
	// The host keeps our stdin open and never writes it: EOF means it is
	// gone (even killed with SIGKILL), and a plugin must not outlive it.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(1)
	}()
	fmt.Fprintf(os.Stdout, "%s%s\n", wire.HandshakePrefix, sock)
	if err := gs.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "plugin: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// NewServer adapts p to the gRPC service. A test program can wrap the
// result to misbehave on purpose.
func NewServer(p Plugin) pluginpb.ImporterServer {
	return &server{p: p}
}

// server implements the Importer service over one importers.Importer.
type server struct {
	pluginpb.UnimplementedImporterServer
	p Plugin

	mu  sync.Mutex
	imp importers.Importer
}

func (s *server) Info(ctx context.Context, req *pluginpb.InfoRequest) (*pluginpb.InfoResponse, error) {
	resp := &pluginpb.InfoResponse{
		ProtocolVersion: wire.ProtocolVersion, Name: s.p.Name, Version: s.p.Version,
		Schemes: s.p.Schemes, Description: s.p.Description,
	}
	for _, o := range s.p.Options {
		resp.Options = append(resp.Options, &pluginpb.Option{Name: o.Name, Help: o.Help})
	}
	return resp, nil
}

func (s *server) Init(ctx context.Context, req *pluginpb.InitRequest) (*pluginpb.InitResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.imp != nil {
		return nil, statusf(errAlreadyInit, "Init called twice")
	}
	if s.p.New == nil {
		return nil, statusf(errors.ErrUnsupported, "plugin %s has no New function", s.p.Name)
	}
	imp, err := s.p.New(ctx, req.Location, req.Options)
	if err != nil {
		return nil, toStatus(err)
	}
	s.imp = imp
	return &pluginpb.InitResponse{Origin: imp.Origin()}, nil
}

var errAlreadyInit = errors.New("already initialised")

func (s *server) importer() (importers.Importer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.imp == nil {
		return nil, statusf(errNoInit, "Init was not called")
	}
	return s.imp, nil
}

var errNoInit = errors.New("not initialised")

func (s *server) Close(ctx context.Context, req *pluginpb.CloseRequest) (*pluginpb.CloseResponse, error) {
	s.mu.Lock()
	imp := s.imp
	s.mu.Unlock()
	var err error
	if imp != nil {
		err = imp.Close()
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &pluginpb.CloseResponse{}, nil
}
