package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// Defaults of Config.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	// closeGrace is how long a closed plugin may take to exit by itself.
	closeGrace = 3 * time.Second
	// tailLines of stderr are quoted in the error when a plugin dies.
	tailLines = 5
)

// process is one running plugin and the gRPC connection to it.
type process struct {
	path   string
	name   string // the plugin's name once known, else the file name
	log    *slog.Logger
	cmd    *exec.Cmd
	dir    string   // private directory of the socket
	stdin  *os.File // kept open: the plugin exits on EOF
	conn   *grpc.ClientConn
	client pluginpb.ImporterClient
	codec  *contentCodec

	handshakeCh chan string // the first line of stdout; closed without one

	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed

	mu   sync.Mutex
	tail []string // last lines of stderr
	stop func() bool
}

// start launches the plugin at path, waits for its handshake and connects.
// The process is killed when ctx ends.
func start(ctx context.Context, path string, log *slog.Logger, handshake time.Duration) (*process, error) {
	if log == nil {
		log = slog.Default()
	}
	if handshake <= 0 {
		handshake = DefaultHandshakeTimeout
	}
	p := &process{path: path, name: filepath.Base(path), log: log, done: make(chan struct{})}
	if err := p.launch(); err != nil {
		return nil, err
	}
	p.stop = context.AfterFunc(ctx, p.kill)
	sock, err := p.awaitHandshake(ctx, handshake)
	if err == nil {
		err = p.connect(sock)
	}
	if err != nil {
		p.shutdown(0)
		return nil, err
	}
	return p, nil
}

// launch starts the process with its pipes: stdout for the handshake and
// then the log, stderr for the log, stdin as the lifeline.
func (p *process) launch() error {
	dir, err := os.MkdirTemp("", "plakar-gw-plugin-")
	if err != nil {
		return fmt.Errorf("plugin %s: %w", p.name, err)
	}
	p.dir = dir
	inR, inW, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("plugin %s: %w", p.name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		os.RemoveAll(dir)
		return fmt.Errorf("plugin %s: %w", p.name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
		os.RemoveAll(dir)
		return fmt.Errorf("plugin %s: %w", p.name, err)
	}
	cmd := exec.Command(p.path)
	cmd.Env = append(os.Environ(), wire.EnvMagic+"="+wire.Magic, wire.EnvSocket+"="+filepath.Join(dir, "s"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	// The child holds its ends now; ours would keep EOF from ever coming.
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		os.RemoveAll(dir)
		return fmt.Errorf("plugin %s: %w", p.path, err)
	}
	p.cmd, p.stdin = cmd, inW
	p.handshakeCh = make(chan string, 1)
	go p.readStdout(outR)
	stderrDone := make(chan struct{})
	go p.readStderr(errR, stderrDone)
	go func() {
		err := cmd.Wait()
		// The last words on stderr belong in the exit error: let them
		// arrive, but not forever (a grandchild may hold the pipe).
		select {
		case <-stderrDone:
		case <-time.After(200 * time.Millisecond):
		}
		p.waitErr = err
		close(p.done)
	}()
	return nil
}

func (p *process) readStdout(r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			p.handshakeCh <- line
			continue
		}
		p.log.Info(line, "plugin", p.label(), "stream", "stdout")
	}
	if first {
		close(p.handshakeCh)
	}
	io.Copy(io.Discard, r)
}

func (p *process) readStderr(r *os.File, done chan struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		if len(p.tail) == tailLines {
			p.tail = p.tail[1:]
		}
		p.tail = append(p.tail, line)
		p.mu.Unlock()
		p.log.Warn(line, "plugin", p.label())
	}
	io.Copy(io.Discard, r)
}

// awaitHandshake reads the first line of stdout.
func (p *process) awaitHandshake(ctx context.Context, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-p.handshakeCh:
		if !ok {
			return "", p.exitError("before its handshake")
		}
		sock, found := strings.CutPrefix(line, wire.HandshakePrefix)
		if !found || sock != filepath.Join(p.dir, "s") {
			return "", fmt.Errorf("plugin %s: not a plakar-gw importer plugin: its first line of output is %q, want %q",
				p.path, truncate(line, 80), wire.HandshakePrefix+"SOCKET")
		}
		return sock, nil
	case <-t.C:
		return "", fmt.Errorf("plugin %s: no handshake within %v (is it a plakar-gw importer plugin?)", p.path, timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (p *process) connect(sock string) error {
	p.codec = newContentCodec()
	conn, err := grpc.NewClient("unix://"+sock,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(wire.MaxMessage), grpc.ForceCodecV2(p.codec)),
		grpc.WithInitialWindowSize(wire.StreamWindow),
		grpc.WithInitialConnWindowSize(wire.ConnWindow),
		// Fewer, larger reads of the socket: file content dominates.
		grpc.WithReadBufferSize(wire.ChunkSize),
	)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", p.path, err)
	}
	p.conn, p.client = conn, pluginpb.NewImporterClient(conn)
	return nil
}

// exited reports whether the process has exited, waiting up to d for it:
// a broken stream is often seen a moment before the exit.
func (p *process) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// exitError describes how the process ended, with its last stderr lines.
func (p *process) exitError(when string) error {
	<-p.done
	p.mu.Lock()
	tail := strings.Join(p.tail, " | ")
	p.mu.Unlock()
	how := "exited"
	if p.waitErr != nil {
		how = "exited: " + p.waitErr.Error()
		var ee *exec.ExitError
		if errors.As(p.waitErr, &ee) && ee.Exited() {
			how = fmt.Sprintf("exited with status %d", ee.ExitCode())
		}
	}
	msg := fmt.Sprintf("plugin %s (%s) %s %s", p.label(), p.path, how, when)
	if tail != "" {
		msg += "; its last words on stderr: " + tail
	}
	return errors.New(msg)
}

// kill ends the process group at once.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// shutdown lets the process exit by itself for grace (it does after
// Close, or when its stdin closes), then kills it, and cleans up.
func (p *process) shutdown(grace time.Duration) {
	if p.conn != nil {
		p.conn.Close()
	}
	p.stdin.Close()
	if !p.exited(grace) {
		p.kill()
		<-p.done
	}
	// The group too: a child of the plugin must not stay behind.
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	p.stop()
	os.RemoveAll(p.dir)
}

func (p *process) label() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

func (p *process) setName(name string) {
	p.mu.Lock()
	p.name = name
	p.mu.Unlock()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
