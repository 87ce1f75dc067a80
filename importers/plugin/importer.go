package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// OptionIdleTimeout is the option the host takes for itself (it is not
// passed to the plugin): how long the plugin may stay silent during Init,
// a Scan or an Open, e.g. "30s".
const OptionIdleTimeout = "idle_timeout"

// Config selects a plugin and what it imports.
type Config struct {
	// Path is the plugin executable.
	Path string
	// Location and Options are passed to the plugin's Init. Options are
	// checked against those the plugin declares, and idle_timeout is the
	// host's own.
	Location string
	Options  map[string]string
	// Logger receives the plugin's stderr; default slog.Default().
	Logger *slog.Logger
	// HandshakeTimeout bounds start-up and Info; default 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout applies when the option does not say; default 60 s.
	IdleTimeout time.Duration
}

// Info describes a plugin, as it says in its Info.
type Info struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Description string   `json:"description,omitempty"`
	Schemes     []string `json:"schemes"`
	Options     []Option `json:"options,omitempty"`
}

// Option is one option a plugin accepts.
type Option struct {
	Name string `json:"name"`
	Help string `json:"help,omitempty"`
}

// Importer is an importers.Importer served by a plugin process. It is
// safe for concurrent use; the process lives until Close or until the
// context given to New ends.
type Importer struct {
	proc   *process
	info   Info
	origin string
	idle   time.Duration

	// ctx lives as long as the importer: calls not tied to one caller's
	// context (ReadSmall batches) use it.
	ctx      context.Context
	cancel   context.CancelFunc
	hints    sizeHints
	small    batcher
	prefetch prefetcher

	closeOnce sync.Once
	closeErr  error
}

var _ importers.Importer = (*Importer)(nil)

// New starts the plugin, checks its protocol version and options, and
// initialises it for cfg.Location.
func New(ctx context.Context, cfg Config) (*Importer, error) {
	idle := cfg.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	opts := map[string]string{}
	for k, v := range cfg.Options {
		if k != OptionIdleTimeout {
			opts[k] = v
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("plugin %s: option %s=%q: want a positive duration such as 30s", cfg.Path, k, v)
		}
		idle = d
	}
	p, err := start(ctx, cfg.Path, cfg.Logger, cfg.HandshakeTimeout)
	if err != nil {
		return nil, err
	}
	imp := &Importer{proc: p, idle: idle}
	imp.ctx, imp.cancel = context.WithCancel(context.WithoutCancel(ctx))
	imp.small.imp = imp
	imp.prefetch.imp = imp
	if err := imp.init(ctx, cfg, opts); err != nil {
		imp.Close()
		return nil, err
	}
	return imp, nil
}

func (imp *Importer) init(ctx context.Context, cfg Config, opts map[string]string) error {
	info, err := imp.proc.info(ctx, cfg.HandshakeTimeout)
	if err != nil {
		return err
	}
	imp.info = info
	if err := checkOptions(info, opts); err != nil {
		return err
	}
	ictx, cancel := context.WithTimeout(ctx, imp.idle)
	defer cancel()
	resp, err := imp.proc.client.Init(ictx, &pluginpb.InitRequest{Location: cfg.Location, Options: opts})
	if err != nil {
		return imp.callError(ctx, "Init", err)
	}
	imp.origin = resp.Origin
	if imp.origin == "" {
		imp.origin = cfg.Location
	}
	return nil
}

func checkOptions(info Info, opts map[string]string) error {
	var known []string
	for _, o := range info.Options {
		known = append(known, o.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if !slices.Contains(known, k) {
			known = append(known, OptionIdleTimeout)
			slices.Sort(known)
			return fmt.Errorf("importer %s takes no option %q (known: %s)", info.Name, k, strings.Join(known, ", "))
		}
	}
	return nil
}

// info asks the plugin for its Info and refuses another protocol version.
func (p *process) info(ctx context.Context, timeout time.Duration) (Info, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ictx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := p.client.Info(ictx, &pluginpb.InfoRequest{ProtocolVersion: wire.ProtocolVersion})
	if err != nil {
		if ictx.Err() != nil && ctx.Err() == nil {
			return Info{}, fmt.Errorf("plugin %s: no answer to Info within %v", p.path, timeout)
		}
		if p.exited(100 * time.Millisecond) {
			return Info{}, p.exitError("during Info")
		}
		return Info{}, fmt.Errorf("plugin %s: Info: %w", p.path, err)
	}
	name := resp.Name
	if name == "" {
		name = p.label()
	}
	if resp.ProtocolVersion != wire.ProtocolVersion {
		return Info{}, fmt.Errorf("plugin %s (%s) speaks importer protocol version %d; this plakar-gw supports %d",
			name, p.path, resp.ProtocolVersion, wire.ProtocolVersion)
	}
	if err := checkName(resp.Name); err != nil {
		return Info{}, fmt.Errorf("plugin %s: %w", p.path, err)
	}
	p.setName(resp.Name)
	info := Info{Name: resp.Name, Version: resp.Version, Description: resp.Description}
	for _, s := range resp.Schemes {
		if err := checkName(s); err != nil {
			return Info{}, fmt.Errorf("plugin %s: scheme: %w", p.path, err)
		}
		info.Schemes = append(info.Schemes, s)
	}
	for _, o := range resp.Options {
		info.Options = append(info.Options, Option{Name: o.Name, Help: o.Help})
	}
	return info, nil
}

// checkName accepts what may appear in "importer: NAME" and "NAME://".
func checkName(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("name %q: want 1 to 64 characters", s)
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_' || c == '+' || c == '.')
		if !ok {
			return fmt.Errorf("name %q: want lowercase letters first, then letters, digits, '-', '_', '+' or '.'", s)
		}
	}
	return nil
}

// Describe starts the plugin at path, asks its Info, and stops it.
func Describe(ctx context.Context, path string, log *slog.Logger, handshake time.Duration) (Info, error) {
	p, err := start(ctx, path, log, handshake)
	if err != nil {
		return Info{}, err
	}
	info, err := p.info(ctx, handshake)
	if err != nil {
		p.shutdown(0)
		return Info{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	grace := time.Duration(0)
	if _, err := p.client.Close(cctx, &pluginpb.CloseRequest{}); err == nil {
		grace = closeGrace
	}
	p.shutdown(grace)
	return info, nil
}

// Type returns the plugin's name.
func (imp *Importer) Type() string { return imp.info.Name }

// Origin returns what the plugin's Init said.
func (imp *Importer) Origin() string { return imp.origin }

// Info returns what the plugin says about itself.
func (imp *Importer) Info() Info { return imp.info }

// Close asks the plugin to close and exit, and kills it if it does not.
func (imp *Importer) Close() error {
	imp.closeOnce.Do(func() {
		imp.cancel()
		grace := time.Duration(0)
		select {
		case <-imp.proc.done:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
			_, err := imp.proc.client.Close(ctx, &pluginpb.CloseRequest{})
			cancel()
			switch {
			case err == nil:
				// It is stopping; streams still open end first.
				grace = closeGrace
			case status.Code(err) != codes.Unavailable:
				imp.closeErr = fmt.Errorf("plugin %s: Close: %w", imp.info.Name, err)
			}
		}
		imp.proc.shutdown(grace)
	})
	return imp.closeErr
}

// errIdle is the cancel cause of a call whose plugin went silent.
var errIdle = errors.New("idle timeout")

// callError explains why a call to the plugin failed: the caller's
// context, the idle timeout, the process's death, or the plugin's status.
func (imp *Importer) callError(ctx context.Context, call string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("plugin %s: %s: %w", imp.info.Name, call, context.Cause(ctx))
	}
	if errors.Is(err, errIdle) {
		return fmt.Errorf("plugin %s: %s: no answer for %v (option %s)", imp.info.Name, call, imp.idle, OptionIdleTimeout)
	}
	st, _ := status.FromError(err)
	if st.Code() == codes.DeadlineExceeded && call == "Init" {
		return fmt.Errorf("plugin %s: %s: no answer for %v (option %s)", imp.info.Name, call, imp.idle, OptionIdleTimeout)
	}
	switch st.Code() {
	case codes.Unavailable, codes.Canceled, codes.Internal, codes.Unknown:
		if imp.proc.exited(300 * time.Millisecond) {
			return imp.proc.exitError("during " + call)
		}
	}
	return fmt.Errorf("plugin %s: %s: %s", imp.info.Name, call, st.Message())
}
