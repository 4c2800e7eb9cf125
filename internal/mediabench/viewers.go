package mediabench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ViewersRun is one run of examples/sender serving several viewers at
// once, each a measuring receiver of its own process.
type ViewersRun struct {
	// Viewers is how many receivers watched; MaxViewers the sender's
	// -viewers (1: its one-session mode, which serves one viewer).
	Viewers, MaxViewers int
	// SenderCPUPercent is the sender's whole process over the window.
	SenderCPUPercent float64
	// Receivers are what each viewer measured.
	Receivers []PeerResult
}

// MinFPS returns the decoded frame rate of the slowest viewer.
func (r ViewersRun) MinFPS() float64 {
	lowest := 0.0
	for i, p := range r.Receivers {
		fps := float64(p.Frames) / max(p.Window.Seconds(), 1e-9)
		if i == 0 || fps < lowest {
			lowest = fps
		}
	}
	return lowest
}

// LatencyP50 returns the median over the viewers of each one's
// capture-to-decoded p50, in ms.
func (r ViewersRun) LatencyP50() float64 {
	var p50s []float64
	for _, p := range r.Receivers {
		if len(p.LatencyMs) > 0 {
			p50s = append(p50s, Median(p.LatencyMs))
		}
	}
	return Median(p50s)
}

// Missing returns the frames missing at the viewers, all together.
func (r ViewersRun) Missing() int {
	n := 0
	for _, p := range r.Receivers {
		n += p.Missing
	}
	return n
}

// RunViewers starts viewers measuring receivers (this binary, exe,
// re-executed with -peer) in room, then examples/sender with -viewers
// maxViewers, as a user starts it, and measures the sender's CPU over the
// receivers' window. Every wait is bounded.
func RunViewers(exe string, progs *Programs, url, room string, recv PeerConfig, viewers, maxViewers int, logTo io.Writer) (ViewersRun, error) {
	run := ViewersRun{Viewers: viewers, MaxViewers: maxViewers}
	if viewers < 1 || maxViewers < viewers {
		return run, fmt.Errorf("%w: %d viewers for a sender serving %d", ErrConfig, viewers, maxViewers)
	}
	recv.Signal, recv.Room, recv.Mode = url, room, ReceiveDecode
	recv, err := recv.withDefaults()
	if err != nil {
		return run, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), recv.maxRun()+time.Minute)
	defer cancel()
	var children []*child
	defer func() {
		for _, c := range children {
			_ = c.stop(10 * time.Second)
		}
	}()
	for i := range viewers {
		c, err := startViewer(exe, "viewer-"+strconv.Itoa(i+1), recv, logTo)
		if err != nil {
			return run, err
		}
		children = append(children, c)
		if _, err := c.await("ready", recv.Timeout); err != nil {
			return run, err
		}
	}
	args := []string{"-signal", url, "-room", room, "-viewers", strconv.Itoa(maxViewers)}
	sp, err := startProgram("sender", progs.Sender, args, logTo)
	if err != nil {
		return run, err
	}
	defer func() { _, _ = sp.stop(5 * time.Second) }()
	if _, err := sp.waitMark(watched[1], recv.Timeout); err != nil {
		return run, err
	}
	// The viewers connect within moments of each other.
	if err := sleep(ctx, recv.Warmup+500*time.Millisecond); err != nil {
		return run, err
	}
	if run.SenderCPUPercent, err = sp.cpuOver(ctx, recv.Window); err != nil {
		return run, err
	}
	var errs []error
	for _, c := range children {
		e, err := c.await("result", recv.maxRun())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			continue
		}
		run.Receivers = append(run.Receivers, *e.Result)
	}
	return run, errors.Join(errs...)
}
