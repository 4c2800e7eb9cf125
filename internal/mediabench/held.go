package mediabench

import (
	"context"
	"slices"
	"sync"

	"github.com/avlink/avlink/capture"
)

// heldSource passes a VideoSource's frames on and, once connected is
// closed, hands out the last frame again at once. A session skips the
// frames it reads before its connection is up and then waits for the next
// capture, up to a frame interval; re-delivering the frame it skipped
// shows what encoding that held frame at connect time would save.
type heldSource struct {
	src       capture.VideoSource
	connected <-chan struct{}
	frames    chan readResult
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once

	fired bool
	last  *capture.VideoFrame
}

type readResult struct {
	f   *capture.VideoFrame
	err error
}

func newHeldSource(src capture.VideoSource, connected <-chan struct{}) *heldSource {
	ctx, cancel := context.WithCancel(context.Background())
	h := &heldSource{src: src, connected: connected, frames: make(chan readResult),
		cancel: cancel, done: make(chan struct{})}
	go h.pump(ctx)
	return h
}

func (h *heldSource) pump(ctx context.Context) {
	defer close(h.done)
	for {
		f, err := h.src.ReadVideo(ctx)
		select {
		case h.frames <- readResult{f, err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// ReadVideo is called from one goroutine at a time, as the session does.
func (h *heldSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	for {
		var conn <-chan struct{}
		if !h.fired {
			conn = h.connected
		}
		select {
		case r := <-h.frames:
			if r.err == nil {
				h.last = r.f
			}
			return r.f, r.err
		case <-conn:
			h.fired = true
			if h.last != nil {
				c := *h.last
				c.Data = slices.Clone(h.last.Data)
				return &c, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (h *heldSource) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.cancel()
		err = h.src.Close()
		<-h.done
	})
	return err
}
