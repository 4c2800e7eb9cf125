package mediabench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/avlink/avlink/internal/tune"
)

// ChildFlag is the flag under which the benchmark command passes a
// PeerConfig, as JSON, to the copy of itself that runs one peer.
const ChildFlag = "peer"

// event is one line a child writes to its standard output.
type event struct {
	Event  string        `json:"event"`
	Result *PeerResult   `json:"result,omitempty"`
	Memory *MemoryResult `json:"memory,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// RunChild runs one peer in a child process: it starts the peer, writes
// a "ready" line, measures, writes a "result" line, then keeps the
// session (and so the media) going until stdin closes, so the other peer
// can finish its own window. Every wait is bounded.
func RunChild(ctx context.Context, cfg PeerConfig, stdin io.Reader, stdout io.Writer) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.maxRun()+cfg.maxRun())
	defer cancel()
	enc := json.NewEncoder(stdout)
	if cfg.Mode == MemoryPairs {
		m, err := RunMemory(ctx, cfg)
		if err != nil {
			return err
		}
		return enc.Encode(event{Event: "result", Memory: &m})
	}
	p, err := StartPeer(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := enc.Encode(event{Event: "ready"}); err != nil {
		return err
	}
	r, err := p.Measure(ctx)
	if err != nil {
		return err
	}
	if err := enc.Encode(event{Event: "result", Result: &r}); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// child is a running peer process.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan event
	stderr *tail
	exited chan struct{}
	err    error // from Wait, valid after exited
}

// tail keeps the last lines a child wrote to stderr, for error messages,
// and passes everything on to an optional writer.
type tail struct {
	mu    sync.Mutex
	lines []string
	part  string
	w     io.Writer
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w != nil {
		_, _ = t.w.Write(b)
	}
	s := t.part + string(b)
	ls := strings.Split(s, "\n")
	t.part = ls[len(ls)-1]
	t.lines = append(t.lines, ls[:len(ls)-1]...)
	if len(t.lines) > 20 {
		t.lines = t.lines[len(t.lines)-20:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(strings.Join(append(t.lines, t.part), "\n"))
}

// startChild re-executes exe with -peer <cfg as JSON>.
func startChild(exe, name string, cfg PeerConfig, logTo io.Writer) (*child, error) {
	return startChildEnv(exe, name, cfg, os.Environ(), logTo)
}

// startViewer starts a measuring receiver for the example programs'
// runs. It stands in for a viewer on another machine, so it gets the
// programs' settings (internal/tune), which take the least from the
// programs measured beside it on these cores.
func startViewer(exe, name string, cfg PeerConfig, logTo io.Writer) (*child, error) {
	env, _ := tune.Env(os.Environ())
	return startChildEnv(exe, name, cfg, env, logTo)
}

func startChildEnv(exe, name string, cfg PeerConfig, env []string, logTo io.Writer) (*child, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	c := &child{name: name, events: make(chan event, 4), stderr: &tail{w: logTo}, exited: make(chan struct{})}
	c.cmd = exec.Command(exe, "-"+ChildFlag, string(js))
	c.cmd.Stderr = c.stderr
	c.cmd.Env = env
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %w", ErrPeer, name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			c.events <- e
		}
		close(c.events)
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// await waits up to d for the child's next event, which must be want.
func (c *child) await(want string, d time.Duration) (event, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case e, ok := <-c.events:
		if !ok {
			<-c.exited
			return e, fmt.Errorf("%w: %s exited (%v) before %q:\n%s", ErrPeer, c.name, c.err, want, c.stderr)
		}
		if e.Event != want {
			return e, fmt.Errorf("%w: %s said %q, expected %q", ErrPeer, c.name, e.Event, want)
		}
		return e, nil
	case <-t.C:
		return event{}, fmt.Errorf("%w: %s gave no %q within %v:\n%s", ErrTimeout, c.name, want, d, c.stderr)
	}
}

// stop closes the child's stdin, which tells it to end, and waits up to
// d for it to exit; then it kills it.
func (c *child) stop(d time.Duration) error {
	_ = c.stdin.Close()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.exited:
		if c.err != nil {
			return fmt.Errorf("%w: %s: %w:\n%s", ErrPeer, c.name, c.err, c.stderr)
		}
		return nil
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("%w: %s did not exit within %v; killed", ErrTimeout, c.name, d)
	}
}

// Pair is what the sender and the receiver of one measurement found.
type Pair struct {
	Sender, Receiver PeerResult
}

// RunPair runs a measurement with sender and receiver in two processes,
// each exe re-executed with -peer: the receiver joins the room first,
// then the sender. logTo, when not nil, receives the children's stderr.
func RunPair(exe string, send, recv PeerConfig, logTo io.Writer) (Pair, error) {
	send, err := send.withDefaults()
	if err != nil {
		return Pair{}, err
	}
	if recv, err = recv.withDefaults(); err != nil {
		return Pair{}, err
	}
	var pr Pair
	rc, err := startChild(exe, "receiver", recv, logTo)
	if err != nil {
		return pr, err
	}
	if _, err := rc.await("ready", recv.Timeout); err != nil {
		return pr, errors.Join(err, rc.stop(5*time.Second))
	}
	sc, err := startChild(exe, "sender", send, logTo)
	if err != nil {
		return pr, errors.Join(err, rc.stop(5*time.Second))
	}
	stopBoth := func() error { return errors.Join(sc.stop(10*time.Second), rc.stop(10*time.Second)) }
	if _, err := sc.await("ready", send.Timeout); err != nil {
		return pr, errors.Join(err, stopBoth())
	}
	limit := 2*recv.Timeout + recv.Warmup + recv.Window + 10*time.Second
	var se, re event
	var serr, rerr error
	var wg sync.WaitGroup
	wg.Go(func() { se, serr = sc.await("result", limit) })
	wg.Go(func() { re, rerr = rc.await("result", limit) })
	wg.Wait()
	if err := errors.Join(serr, rerr); err != nil {
		return pr, errors.Join(err, stopBoth())
	}
	pr.Sender, pr.Receiver = *se.Result, *re.Result
	return pr, stopBoth()
}

// RunInProcess runs sender and receiver in this process, for figures
// that need both sides at hand (PSNR against the sent frames).
func RunInProcess(ctx context.Context, send, recv PeerConfig) (Pair, error) {
	var pr Pair
	r, err := StartPeer(ctx, recv)
	if err != nil {
		return pr, err
	}
	defer r.Close()
	s, err := StartPeer(ctx, send)
	if err != nil {
		return pr, err
	}
	defer s.Close()
	var serr, rerr error
	var wg sync.WaitGroup
	wg.Go(func() { pr.Sender, serr = s.Measure(ctx) })
	wg.Go(func() { pr.Receiver, rerr = r.Measure(ctx) })
	wg.Wait()
	return pr, errors.Join(serr, rerr)
}

// RunMemoryChild runs a MemoryPairs measurement in a child process, so
// that its resident memory holds nothing but the sessions.
func RunMemoryChild(exe string, cfg PeerConfig, logTo io.Writer) (MemoryResult, error) {
	cfg.Mode = MemoryPairs
	cfg, err := cfg.withDefaults()
	if err != nil {
		return MemoryResult{}, err
	}
	c, err := startChild(exe, "memory", cfg, logTo)
	if err != nil {
		return MemoryResult{}, err
	}
	e, err := c.await("result", cfg.maxRun()+time.Duration(cfg.Pairs)*cfg.Timeout)
	if err != nil {
		return MemoryResult{}, errors.Join(err, c.stop(10*time.Second))
	}
	return *e.Memory, c.stop(10 * time.Second)
}
