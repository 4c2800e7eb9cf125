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
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/avlink/avlink/internal/procstat"
)

// Programs are examples/sender and examples/receiver built from the
// module, to be measured exactly as users run them.
type Programs struct {
	dir              string
	Sender, Receiver string
}

// BuildPrograms builds the example programs of the module rooted at repo
// into a temporary directory that Close removes.
func BuildPrograms(ctx context.Context, repo string) (*Programs, error) {
	dir, err := os.MkdirTemp("", "mediabench-programs-")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), "./examples/sender", "./examples/receiver")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mediabench: go build the examples: %w: %s", err, out)
	}
	return &Programs{dir: dir, Sender: filepath.Join(dir, "sender"), Receiver: filepath.Join(dir, "receiver")}, nil
}

// Close removes the built programs.
func (p *Programs) Close() error { return os.RemoveAll(p.dir) }

// ProgramRun is one run of examples/sender, as a user starts it, into a
// receiver: the benchmark's own measuring receiver (Receiver holds what
// it found) or examples/receiver (its CPU is in ReceiverCPUPercent).
type ProgramRun struct {
	// SenderStarted is when the sender's process was started,
	// SenderJoined when it said it had connected to the signaling server,
	// SenderConnected when it said its peer connection was connected.
	SenderStarted, SenderJoined, SenderConnected time.Time
	// SenderCPUPercent is the sender process's user and system time over
	// the window, as a share of one core.
	SenderCPUPercent float64
	// SenderExit is how long the sender took to exit after SIGTERM.
	SenderExit time.Duration
	// SenderSkipped is the video frames the sender counted as not sent
	// (its Stats' FramesStale and FramesDropped, whole run), from its
	// -stats-json file.
	SenderSkipped int64
	// Receiver is the measuring receiver's result, when one ran.
	Receiver *PeerResult
	// ReceiverCPUPercent is examples/receiver's CPU over the window, when
	// it ran instead.
	ReceiverCPUPercent float64
}

// program is a running example program whose stderr lines are watched.
type program struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	log     *tail
	exited  chan struct{}
	err     error

	mu    sync.Mutex
	marks map[string]time.Time // first time a line containing the key was read
	seen  chan struct{}        // closed and replaced when a mark is set
}

// watched are the log lines whose times a run needs.
var watched = []string{"connected to the signaling server", "state=connected"}

func startProgram(name, path string, args []string, logTo io.Writer) (*program, error) {
	p := &program{name: name, log: &tail{w: logTo}, exited: make(chan struct{}), marks: map[string]time.Time{}, seen: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = p.log
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %w", ErrPeer, name, err)
	}
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			now, line := time.Now(), sc.Text()
			_, _ = p.log.Write([]byte(line + "\n"))
			for _, k := range watched {
				if strings.Contains(line, k) {
					p.mark(k, now)
				}
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *program) mark(k string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.marks[k]; !ok {
		p.marks[k] = t
		close(p.seen)
		p.seen = make(chan struct{})
	}
}

// waitMark waits up to d for a line containing k and returns when it was
// read.
func (p *program) waitMark(k string, d time.Duration) (time.Time, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		t, ok := p.marks[k]
		seen := p.seen
		p.mu.Unlock()
		if ok {
			return t, nil
		}
		select {
		case <-seen:
		case <-p.exited:
			return time.Time{}, fmt.Errorf("%w: %s exited (%v) before saying %q:\n%s", ErrPeer, p.name, p.err, k, p.log)
		case <-deadline.C:
			return time.Time{}, fmt.Errorf("%w: %s did not say %q within %v:\n%s", ErrTimeout, p.name, k, d, p.log)
		}
	}
}

// cpuOver measures the program's CPU over d, as a share of one core.
func (p *program) cpuOver(ctx context.Context, d time.Duration) (float64, error) {
	s0, err := procstat.ReadStat(p.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := sleep(ctx, d); err != nil {
		return 0, err
	}
	s1, err := procstat.ReadStat(p.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	return 100 * float64(s1.CPU()-s0.CPU()) / float64(time.Since(t0)), nil
}

// stop sends SIGTERM and waits up to d for the program to exit (then
// kills it); it returns how long the exit took.
func (p *program) stop(d time.Duration) (time.Duration, error) {
	t0 := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		took := time.Since(t0)
		if p.err != nil {
			return took, fmt.Errorf("%w: %s: %w:\n%s", ErrPeer, p.name, p.err, p.log)
		}
		return took, nil
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
		return d, fmt.Errorf("%w: %s did not exit within %v of SIGTERM; killed", ErrTimeout, p.name, d)
	}
}

// RunProgram runs examples/sender through the signaling server at url in
// room. With a measuring receiver (recv.Mode ReceiveDecode, this binary
// exe re-executed with -peer) it records latency, the join and the frames
// missing; with useReceiver it runs examples/receiver instead and
// records that program's CPU. The sender's CPU is measured over the same
// warm-up and window either way. logTo, when not nil, receives every
// process's output.
func RunProgram(exe string, progs *Programs, url, room string, recv PeerConfig, useReceiver bool, logTo io.Writer) (ProgramRun, error) {
	recv.Signal, recv.Room = url, room
	recv, err := recv.withDefaults()
	if err != nil {
		return ProgramRun{}, err
	}
	var run ProgramRun
	ctx, cancel := context.WithTimeout(context.Background(), recv.maxRun()+time.Minute)
	defer cancel()
	args := programArgs(url, room)

	var rc *child
	var rp *program
	if useReceiver {
		if rp, err = startProgram("receiver", progs.Receiver, args, logTo); err != nil {
			return run, err
		}
		defer func() { _, _ = rp.stop(5 * time.Second) }()
		if _, err := rp.waitMark(watched[0], recv.Timeout); err != nil {
			return run, err
		}
	} else {
		if rc, err = startViewer(exe, "receiver", recv, logTo); err != nil {
			return run, err
		}
		defer func() { _ = rc.stop(10 * time.Second) }()
		if _, err := rc.await("ready", recv.Timeout); err != nil {
			return run, err
		}
	}
	statsFile := filepath.Join(progs.dir, room+"-sender.json")
	sp, err := startProgram("sender", progs.Sender, append(args, "-stats-json", statsFile), logTo)
	if err != nil {
		return run, err
	}
	run.SenderStarted = sp.started
	if run.SenderJoined, err = sp.waitMark(watched[0], recv.Timeout); err != nil {
		_, _ = sp.stop(5 * time.Second)
		return run, err
	}
	if run.SenderConnected, err = sp.waitMark(watched[1], recv.Timeout); err != nil {
		_, _ = sp.stop(5 * time.Second)
		return run, err
	}
	if err := sleep(ctx, recv.Warmup); err != nil {
		_, _ = sp.stop(5 * time.Second)
		return run, err
	}
	var wg sync.WaitGroup
	var rerr error
	if rp != nil {
		wg.Go(func() { run.ReceiverCPUPercent, rerr = rp.cpuOver(ctx, recv.Window) })
	}
	run.SenderCPUPercent, err = sp.cpuOver(ctx, recv.Window)
	wg.Wait()
	if rc != nil && err == nil && rerr == nil {
		var e event
		if e, rerr = rc.await("result", recv.maxRun()); rerr == nil {
			run.Receiver = e.Result
		}
	}
	took, serr := sp.stop(5 * time.Second)
	run.SenderExit = took
	if serr == nil {
		run.SenderSkipped, serr = readSkipped(statsFile)
	}
	return run, errors.Join(err, rerr, serr)
}

// programArgs are the example programs' flags for room on the signaling
// server at url, with debug logs when LogEnv is set.
func programArgs(url, room string) []string {
	args := []string{"-signal", url, "-room", room}
	if os.Getenv(LogEnv) != "" {
		args = append(args, "-v")
	}
	return args
}

// readSkipped reads the frames a program's -stats-json file counts as
// not sent.
func readSkipped(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w: sender stats: %w", ErrPeer, err)
	}
	var st struct {
		VideoOut struct {
			Dropped int64 `json:"frames_dropped"`
			Stale   int64 `json:"frames_stale"`
		} `json:"video_out"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, fmt.Errorf("%w: sender stats %s: %w", ErrPeer, path, err)
	}
	return st.VideoOut.Dropped + st.VideoOut.Stale, nil
}

// ViewerJoin is one run of a viewer joining a robot that is already up:
// examples/sender started and left waiting (its encoder set up, as a
// robot waits for its operator), then the benchmark's measuring receiver
// started in its own process and joined.
type ViewerJoin struct {
	// Sender is the robot's run: its start, join and connection.
	Sender ProgramRun
	// Viewer is the measuring receiver's result: Dialled is its join,
	// First its first decoded frame.
	Viewer PeerResult
}

// idleRobot is how long the robot waits alone before the viewer comes.
const idleRobot = time.Second

// RunViewerJoin runs examples/sender through the signaling server at url,
// waits idleRobot, then starts the measuring receiver (recv, its Mode
// ReceiveDecode) in room and returns when it has its result.
func RunViewerJoin(exe string, progs *Programs, url, room string, recv PeerConfig, logTo io.Writer) (ViewerJoin, error) {
	recv.Signal, recv.Room = url, room
	recv, err := recv.withDefaults()
	if err != nil {
		return ViewerJoin{}, err
	}
	var run ViewerJoin
	args := programArgs(url, room)
	sp, err := startProgram("sender", progs.Sender, args, logTo)
	if err != nil {
		return run, err
	}
	run.Sender.SenderStarted = sp.started
	defer func() { _, _ = sp.stop(5 * time.Second) }()
	if run.Sender.SenderJoined, err = sp.waitMark(watched[0], recv.Timeout); err != nil {
		return run, err
	}
	time.Sleep(idleRobot)
	rc, err := startViewer(exe, "receiver", recv, logTo)
	if err != nil {
		return run, err
	}
	defer func() { _ = rc.stop(10 * time.Second) }()
	if _, err := rc.await("ready", recv.Timeout); err != nil {
		return run, err
	}
	if run.Sender.SenderConnected, err = sp.waitMark(watched[1], recv.Timeout); err != nil {
		return run, err
	}
	e, err := rc.await("result", recv.maxRun())
	if err != nil {
		return run, err
	}
	run.Viewer = *e.Result
	return run, nil
}
