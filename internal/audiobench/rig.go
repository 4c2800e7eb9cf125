// Package audiobench runs the audio programs end to end against a private
// PulseAudio server (internal/pulsetest): examples/mic-sender captures
// the microphone null sink's monitor and sends it through
// examples/signal-server to examples/audio-receiver, which plays it into
// the speaker null sink. A [Rig] is that setup, real processes and all; its
// tests play a tone in and check the tone that comes out, and
// [Rig.MouthToEar] measures the delay of a click train from the
// microphone's sink to the speaker's for the benchmark command
// (internal/audiobench/cmd).
package audiobench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/avlink/avlink/internal/pulsetest"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("audiobench: invalid config")

// Programs are the paths of the built programs.
type Programs struct {
	SignalServer, MicSender, AudioReceiver string
}

// Build builds examples/signal-server, examples/mic-sender and
// examples/audio-receiver into dir.
func Build(ctx context.Context, dir string) (Programs, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return Programs{}, err
	}
	p := Programs{
		SignalServer:  filepath.Join(dir, "signal-server"),
		MicSender:     filepath.Join(dir, "mic-sender"),
		AudioReceiver: filepath.Join(dir, "audio-receiver"),
	}
	for _, b := range []struct{ out, pkg string }{
		{p.SignalServer, "./examples/signal-server"},
		{p.MicSender, "./examples/mic-sender"},
		{p.AudioReceiver, "./examples/audio-receiver"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return Programs{}, fmt.Errorf("audiobench: go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return p, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("audiobench: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("audiobench: not inside the avlink module")
	}
	return filepath.Dir(mod), nil
}

// Config configures a [Rig].
type Config struct {
	// Programs are the built programs; see [Build].
	Programs Programs
	// Pulse is the PulseAudio server both programs use.
	Pulse *pulsetest.Server
	// SenderArgs and ReceiverArgs are extra flags for mic-sender and
	// audio-receiver (-block, -target, ...).
	SenderArgs, ReceiverArgs []string
	// Timeout bounds the wait for the call to connect. Zero means 30 s.
	Timeout time.Duration
	// Logger receives the rig's progress. Nil discards it.
	Logger *slog.Logger
}

// Rig is a signaling server, an audio receiver and a microphone sender,
// each its own process, connected to each other.
type Rig struct {
	Pulse                    *pulsetest.Server
	Signal, Sender, Receiver *Proc
	log                      *slog.Logger
	closeOnce                sync.Once
}

var listenRE = regexp.MustCompile(`signal-server: listening"? addr=(\S+)`)

// Start starts the three programs and waits until sender and receiver
// report that they are connected. Close stops them.
func Start(ctx context.Context, cfg Config) (*Rig, error) {
	if cfg.Pulse == nil || cfg.Programs.MicSender == "" {
		return nil, fmt.Errorf("%w: no PulseAudio server or no programs", ErrConfig)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Rig{Pulse: cfg.Pulse, log: cfg.Logger}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	env := cfg.Pulse.Env()
	var err error
	if r.Signal, err = StartProc("signal-server", cfg.Programs.SignalServer, []string{"-addr", "127.0.0.1:0"}, env); err != nil {
		return nil, err
	}
	line, err := r.Signal.WaitFor(ctx, "signal-server: listening")
	if err != nil {
		r.Close()
		return nil, err
	}
	m := listenRE.FindStringSubmatch(line)
	if m == nil {
		r.Close()
		return nil, fmt.Errorf("audiobench: no address in %q", line)
	}
	url := "ws://" + m[1]
	common := []string{"-signal", url, "-room", "audiobench", "-loopback"}
	if r.Receiver, err = StartProc("audio-receiver", cfg.Programs.AudioReceiver, append(common, cfg.ReceiverArgs...), env); err != nil {
		r.Close()
		return nil, err
	}
	if r.Sender, err = StartProc("mic-sender", cfg.Programs.MicSender, append(common, cfg.SenderArgs...), env); err != nil {
		r.Close()
		return nil, err
	}
	for _, p := range []*Proc{r.Receiver, r.Sender} {
		if _, err := p.WaitFor(ctx, "msg=\"connected: "); err != nil {
			r.Close()
			return nil, err
		}
	}
	r.log.Info("audiobench: connected", "signal", url)
	return r, nil
}

// Close stops the programs that still run (sender, receiver, then the
// signaling server). It may be called more than once.
func (r *Rig) Close() {
	r.closeOnce.Do(func() {
		for _, p := range []*Proc{r.Sender, r.Receiver, r.Signal} {
			if p != nil {
				_, _ = p.Stop(10 * time.Second)
			}
		}
	})
}

// Proc is a running program with its output kept.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  *logBuffer
	done chan struct{}
	err  error
}

// StartProc starts bin with args and env, keeping what it writes.
func StartProc(name, bin string, args, env []string) (*Proc, error) {
	p := &Proc{Name: name, cmd: exec.Command(bin, args...), out: &logBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	pulsetest.Tie(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("audiobench: start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Log returns what the program has written so far.
func (p *Proc) Log() string { return p.out.String() }

// WaitFor waits until the program writes a line containing s and returns
// the line. It fails when ctx ends or the program exits first.
func (p *Proc) WaitFor(ctx context.Context, s string) (string, error) {
	for {
		if line, ok := p.out.line(s); ok {
			return line, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("audiobench: %s never said %q: %w\n%s", p.Name, s, ctx.Err(), p.Log())
		case <-p.done:
			if line, ok := p.out.line(s); ok {
				return line, nil
			}
			return "", fmt.Errorf("audiobench: %s exited (%v) without saying %q\n%s", p.Name, p.err, s, p.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM and waits up to timeout for the program to exit,
// then kills it. It returns how long the program took to exit and its
// exit error (nil for status 0); an error wrapping context.DeadlineExceeded
// means it had to be killed.
func (p *Proc) Stop(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	select {
	case <-p.done:
		return 0, p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(start), p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(start), fmt.Errorf("audiobench: %s ignored SIGTERM for %v: %w", p.Name, timeout, context.DeadlineExceeded)
	}
}

// Wait waits for the program to exit by itself, for up to timeout.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("audiobench: %s still running after %v: %w", p.Name, timeout, context.DeadlineExceeded)
	}
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 4<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// line returns the first complete line containing s.
func (l *logBuffer) line(s string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.SplitAfter(l.b.String(), "\n") {
		if strings.HasSuffix(line, "\n") && strings.Contains(line, s) {
			return strings.TrimSuffix(line, "\n"), true
		}
	}
	return "", false
}
