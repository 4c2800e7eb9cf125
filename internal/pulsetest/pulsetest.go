// Package pulsetest runs a private PulseAudio server for tests and
// benchmarks of the audio device packages, so that PortAudio opens real
// devices on a machine without a sound card.
//
// The server has two null sinks. Sound played into [MicSink] comes out of
// its monitor, mic.monitor, the server's default source: what a
// capture/mic Source on the default device hears. [SpeakerSink] is the
// default sink, where a playback/speaker Sink plays; its monitor,
// spk.monitor, records what the speaker plays. PortAudio reaches the
// server through its ALSA host API and ALSA's pulse plugin (Debian:
// libasound2-plugins), which follow PULSE_SERVER; [Server.Play] and
// [Server.Record] use PulseAudio's own pacat and parec (Debian:
// pulseaudio-utils), independent of the code under test.
//
// The server runs as whoever runs the test, root included (as in CI):
//
//	HOME=$DIR XDG_RUNTIME_DIR=$DIR/run PULSE_RUNTIME_PATH=$DIR/run PULSE_STATE_PATH=$DIR/state \
//	pulseaudio -n -F $DIR/default.pa --daemonize=no --use-pid-file=no \
//	    --exit-idle-time=-1 --realtime=no --high-priority=no --disable-shm=yes --log-target=stderr
//
// with default.pa loading module-null-sink twice, setting the default
// sink and source, and last loading module-native-protocol-unix with
// auth-anonymous=1 on $DIR/native; clients are given
// PULSE_SERVER=unix:$DIR/native. Run as root without --system, PulseAudio
// warns that it is "not intended to be run as root" and carries on, which
// is what a private test server wants: --system would need the pulse
// user, D-Bus and a system-wide socket. -n skips the default script, so
// no hardware, D-Bus or X11 module is loaded. Once it is up, a parec on
// each monitor with 5 ms fragments keeps the null sinks rendering in 5 ms
// blocks, as a sound card would, instead of the 2 s blocks an idle null
// sink uses, which would hold up a newly opened stream's first audio.
package pulsetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The null sinks every server has.
const (
	// MicSink is what tests play into; its monitor is the default source.
	MicSink = "mic"
	// SpeakerSink is the default sink; record SpeakerSink+".monitor".
	SpeakerSink = "spk"
)

// Monitor returns the name of sink's monitor source.
func Monitor(sink string) string { return sink + ".monitor" }

// ErrUnavailable reports that PulseAudio is not installed or would not
// start.
var ErrUnavailable = errors.New("pulsetest: PulseAudio unavailable")

// Config configures a [Server]. The zero value works.
type Config struct {
	// Rate is the null sinks' sample rate. Zero means 48000.
	Rate int
	// Channels is the null sinks' channel count. Zero means 1.
	Channels int
}

// Server is a running PulseAudio server.
type Server struct {
	dir    string
	socket string
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
	// keepers record the monitors to keep the null sinks' blocks short.
	keepers []*exec.Cmd

	closeOnce sync.Once
}

// Start starts a server and waits until it accepts clients. The error
// wraps [ErrUnavailable] when pulseaudio is missing or does not come up.
func Start(cfg Config) (*Server, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 48000
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	bin, err := exec.LookPath("pulseaudio")
	if err != nil {
		return nil, fmt.Errorf("%w: %w (Debian: apt-get install pulseaudio pulseaudio-utils libasound2-plugins)", ErrUnavailable, err)
	}
	dir, err := os.MkdirTemp("", "pulsetest")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, socket: filepath.Join(dir, "native"), log: &syncBuffer{}, exited: make(chan struct{})}
	for _, d := range []string{"run", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	script := fmt.Sprintf(`load-module module-null-sink sink_name=%[1]s rate=%[3]d channels=%[4]d format=s16le
load-module module-null-sink sink_name=%[2]s rate=%[3]d channels=%[4]d format=s16le
set-default-sink %[2]s
set-default-source %[1]s.monitor
load-module module-native-protocol-unix auth-anonymous=1 socket=%[5]s
`, MicSink, SpeakerSink, cfg.Rate, cfg.Channels, s.socket)
	pa := filepath.Join(dir, "default.pa")
	if err := os.WriteFile(pa, []byte(script), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.cmd = exec.Command(bin, "-n", "-F", pa, "--daemonize=no", "--use-pid-file=no",
		"--exit-idle-time=-1", "--realtime=no", "--high-priority=no", "--disable-shm=yes",
		"--log-target=stderr", "--log-level=warning")
	s.cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "PULSE_RUNTIME_PATH="+filepath.Join(dir, "run"),
		"PULSE_STATE_PATH="+filepath.Join(dir, "state"))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	Tie(s.cmd)
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("unix", s.socket)
		if err == nil {
			c.Close()
			if err := s.keepBusy(); err != nil {
				_ = s.Close()
				return nil, err
			}
			return s, nil
		}
		select {
		case <-s.exited:
			_ = s.Close()
			return nil, fmt.Errorf("%w: pulseaudio exited: %s", ErrUnavailable, strings.TrimSpace(s.log.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.Close()
			return nil, fmt.Errorf("%w: no socket after 15 s: %s", ErrUnavailable, strings.TrimSpace(s.log.String()))
		}
	}
}

// keepBusy starts a parec on each null sink's monitor with 5 ms
// fragments, discarding what it records. A null sink renders in blocks as
// long as the shortest latency anyone attached asks for, and 2 s when
// nobody asks, so a newly opened stream would wait up to 2 s for its first
// audio; kept busy, the sinks behave like a sound card with 5 ms periods.
// It returns once both keepers record, which is once the sinks have
// finished the long block they started with.
func (s *Server) keepBusy() error {
	var started []chan struct{}
	for _, sink := range []string{MicSink, SpeakerSink} {
		cmd := exec.Command("parec", "--device="+Monitor(sink), "--raw", "--latency-msec=5")
		cmd.Env = s.Env()
		cmd.Stderr = s.log
		w := &firstWrite{ch: make(chan struct{})}
		cmd.Stdout = w
		Tie(cmd)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%w: parec: %w (Debian: pulseaudio-utils)", ErrUnavailable, err)
		}
		s.keepers = append(s.keepers, cmd)
		started = append(started, w.ch)
	}
	timeout := time.After(15 * time.Second)
	for _, ch := range started {
		select {
		case <-ch:
		case <-timeout:
			return fmt.Errorf("%w: the null sinks' monitors record nothing: %s", ErrUnavailable, strings.TrimSpace(s.log.String()))
		}
	}
	return nil
}

// firstWrite discards what is written and closes ch on the first write.
type firstWrite struct {
	once sync.Once
	ch   chan struct{}
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.ch) })
	return len(p), nil
}

// Address is the server's address, the value for PULSE_SERVER.
func (s *Server) Address() string { return "unix:" + s.socket }

// Env is the environment of a client process: the current one with
// PULSE_SERVER set to this server.
func (s *Server) Env() []string {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PULSE_SERVER=") {
			env = append(env, e)
		}
	}
	return append(env, "PULSE_SERVER="+s.Address())
}

// Log returns what the server has written.
func (s *Server) Log() string { return s.log.String() }

// Close stops the server and removes its files. It may be called more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		for _, k := range s.keepers {
			_ = k.Process.Kill()
			_ = k.Wait()
		}
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		_ = os.RemoveAll(s.dir)
	})
	return nil
}

// Play plays interleaved s16 PCM into sink through pacat and returns once
// it has been played, or when ctx ends.
func (s *Server) Play(ctx context.Context, sink string, rate, channels int, pcm []int16) error {
	p, err := s.Player(ctx, sink, rate, channels)
	if err != nil {
		return err
	}
	_, werr := p.Write(pcm)
	return errors.Join(werr, p.Close())
}

// Player is a pacat process playing what is written to it.
type Player struct {
	cmd   *exec.Cmd
	stdin interface {
		Write([]byte) (int, error)
		Close() error
	}
	out *syncBuffer
	buf []byte
}

// Player starts pacat playing interleaved s16 PCM of the given format
// into sink, with 100 ms of buffering, so that a loaded machine does not
// put gaps into what it plays. Close it when done.
func (s *Server) Player(ctx context.Context, sink string, rate, channels int) (*Player, error) {
	cmd := exec.CommandContext(ctx, "pacat", "--playback", "--device="+sink, "--format=s16le",
		fmt.Sprintf("--rate=%d", rate), fmt.Sprintf("--channels=%d", channels), "--raw", "--latency-msec=100")
	cmd.Env = s.Env()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	Tie(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pulsetest: pacat: %w (Debian: pulseaudio-utils)", err)
	}
	return &Player{cmd: cmd, stdin: in, out: out}, nil
}

// Write queues pcm for playing; it blocks while pacat's buffer is full,
// so a steady writer is paced by the sink's clock.
func (p *Player) Write(pcm []int16) (int, error) {
	p.buf = p.buf[:0]
	for _, v := range pcm {
		p.buf = append(p.buf, byte(v), byte(uint16(v)>>8))
	}
	n, err := p.stdin.Write(p.buf)
	if err != nil {
		return n / 2, fmt.Errorf("pulsetest: pacat: %w: %s", err, p.out.String())
	}
	return len(pcm), nil
}

// Close ends the input and waits for pacat to play it out and exit.
func (p *Player) Close() error {
	errIn := p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		return fmt.Errorf("pulsetest: pacat: %w: %s", err, strings.TrimSpace(p.out.String()))
	}
	return errIn
}

// Recording is a parec process recording a source, with the time each
// chunk arrived.
type Recording struct {
	rate, ch int
	cmd      *exec.Cmd
	out      *syncBuffer
	done     chan struct{}

	mu      sync.Mutex
	samples []int16
	anchor  time.Time // the earliest time the stream's first sample can have been captured
	err     error
}

// Record starts parec recording source (a sink's [Monitor], say) as
// interleaved s16 PCM, with 5 ms fragments. Stop it with Close.
func (s *Server) Record(source string, rate, channels int) (*Recording, error) {
	cmd := exec.Command("parec", "--device="+source, "--format=s16le",
		fmt.Sprintf("--rate=%d", rate), fmt.Sprintf("--channels=%d", channels), "--raw", "--latency-msec=5")
	cmd.Env = s.Env()
	r := &Recording{rate: rate, ch: channels, cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = r.out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	Tie(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pulsetest: parec: %w (Debian: pulseaudio-utils)", err)
	}
	go func() {
		defer close(r.done)
		buf := make([]byte, 64<<10)
		var odd []byte
		for {
			n, err := stdout.Read(buf)
			now := time.Now()
			if n > 0 {
				data := append(odd, buf[:n]...)
				k := len(data) / (2 * r.ch) * (2 * r.ch)
				r.mu.Lock()
				for i := 0; i < k; i += 2 {
					r.samples = append(r.samples, int16(uint16(data[i])|uint16(data[i+1])<<8))
				}
				// The last sample read was captured no later than now:
				// the stream's start is no later than now minus its length.
				start := now.Add(-time.Duration(len(r.samples)/r.ch) * time.Second / time.Duration(r.rate))
				if r.anchor.IsZero() || start.Before(r.anchor) {
					r.anchor = start
				}
				r.mu.Unlock()
				odd = append(odd[:0], data[k:]...)
			}
			if err != nil {
				r.mu.Lock()
				r.err = err
				r.mu.Unlock()
				return
			}
		}
	}()
	return r, nil
}

// Samples returns a copy of what has been recorded so far.
func (r *Recording) Samples() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.samples...)
}

// Frames returns how many samples per channel have been recorded.
func (r *Recording) Frames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples) / r.ch
}

// TimeOf returns when the sample frame at index i reached the recorder:
// the stream's start, taken as the earliest that any chunk's arrival
// allows, plus i samples. Taking the earliest makes the estimate steady
// against the scheduling delays of individual reads.
func (r *Recording) TimeOf(i int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.anchor.Add(time.Duration(i) * time.Second / time.Duration(r.rate))
}

// WaitFrames waits until n samples per channel have been recorded, ctx
// ends or parec stops.
func (r *Recording) WaitFrames(ctx context.Context, n int) error {
	for r.Frames() < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pulsetest: %d of %d frames recorded: %w", r.Frames(), n, ctx.Err())
		case <-r.done:
			return fmt.Errorf("pulsetest: parec stopped after %d frames: %s", r.Frames(), strings.TrimSpace(r.out.String()))
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// Close stops parec.
func (r *Recording) Close() error {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
	}
	<-r.done
	_ = r.cmd.Wait()
	return nil
}

// Shared is a server that a test binary starts once in TestMain, or the
// reason it could not.
type Shared struct {
	Server *Server
	Err    error
}

// StartShared starts a server with cfg and points this process's
// PortAudio at it by setting PULSE_SERVER. Call it in TestMain before any
// test touches PortAudio, and Close the result after m.Run.
func StartShared(cfg Config) *Shared {
	srv, err := Start(cfg)
	if err == nil {
		err = os.Setenv("PULSE_SERVER", srv.Address())
	}
	return &Shared{Server: srv, Err: err}
}

// Require returns the server, or skips the test saying why there is none.
// Where the CI environment variable is set the test fails instead: CI
// installs PulseAudio (bash .ci/install-deps --test), so there a missing
// server is a fault, not a reason to skip.
func (s *Shared) Require(tb testing.TB) *Server {
	tb.Helper()
	if s.Err == nil {
		return s.Server
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("PulseAudio did not start, and CI is set: %v", s.Err)
	}
	tb.Skipf("SKIPPED: PulseAudio did not start (Debian: apt-get install pulseaudio pulseaudio-utils libasound2-plugins): %v", s.Err)
	return nil
}

// Close stops the server, if there is one.
func (s *Shared) Close() error {
	if s.Server != nil {
		return s.Server.Close()
	}
	return nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // keep a runaway log bounded
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
