package broadcast

import (
	"context"
	"slices"
	"sync"

	"github.com/avlink/avlink/capture"
)

// tap is one reader's bounded queue of samples, filled by the encoding
// goroutine and drained by the reader's consumer. Nothing in it blocks the
// goroutine that fills it.
type tap struct {
	notify chan struct{} // one wake-up for a waiting ReadSample

	mu      sync.Mutex
	buf     []*capture.Sample // ring of len(buf) slots
	head, n int
	needKey bool  // skip samples until a keyframe (video)
	end     error // returned once the queue is drained
	closed  bool  // the reader's own Close
	st      ReaderStats

	report int // bitrate estimate reported by the reader; guarded by the owner's group.mu
}

func newTap(size int, needKey bool) *tap {
	return &tap{notify: make(chan struct{}, 1), buf: make([]*capture.Sample, size), needKey: needKey}
}

func (t *tap) wake() {
	select {
	case t.notify <- struct{}{}:
	default:
	}
}

func (t *tap) enqueue(s *capture.Sample) {
	t.buf[(t.head+t.n)%len(t.buf)] = s
	t.n++
}

func (t *tap) clear() {
	for i := range t.buf {
		t.buf[i] = nil
	}
	t.head, t.n = 0, 0
}

// pushVideo queues a video sample. A reader waiting for a keyframe skips
// delta frames; a reader whose queue is full loses the whole queue, since
// the frames after a gap would not decode, and waits for the next
// keyframe. pushVideo reports whether a keyframe must be asked for.
func (t *tap) pushVideo(s *capture.Sample) (resync bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.end != nil {
		return false
	}
	if t.needKey {
		if !s.Keyframe {
			t.st.Skipped++
			return false
		}
		t.needKey = false
	}
	if t.n == len(t.buf) {
		t.st.Dropped += uint64(t.n)
		t.st.Resyncs++
		t.clear()
		if !s.Keyframe {
			t.st.Dropped++
			t.needKey = true
			return true
		}
	}
	t.enqueue(s)
	t.wake()
	return false
}

// pushAudio queues an audio sample, dropping the oldest when the queue is
// full: audio has no keyframes, every packet decodes on its own.
func (t *tap) pushAudio(s *capture.Sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.end != nil {
		return
	}
	if t.n == len(t.buf) {
		t.buf[t.head] = nil
		t.head = (t.head + 1) % len(t.buf)
		t.n--
		t.st.Dropped++
	}
	t.enqueue(s)
	t.wake()
}

// read returns the oldest queued sample, waiting for one; once the
// broadcast has ended and the queue is drained it returns the end error.
func (t *tap) read(ctx context.Context) (*capture.Sample, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for {
		t.mu.Lock()
		switch {
		case t.closed:
			t.mu.Unlock()
			return nil, ErrClosed
		case t.n > 0:
			s := t.buf[t.head]
			t.buf[t.head] = nil
			t.head = (t.head + 1) % len(t.buf)
			t.n--
			t.st.Delivered++
			t.mu.Unlock()
			return s, nil
		case t.end != nil:
			err := t.end
			t.mu.Unlock()
			return nil, err
		}
		t.mu.Unlock()
		select {
		case <-t.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// finish ends the tap with err, after what it still holds.
func (t *tap) finish(err error) {
	t.mu.Lock()
	if t.end == nil {
		t.end = err
	}
	t.mu.Unlock()
	t.wake()
}

// close detaches the consumer: later reads return ErrClosed.
func (t *tap) close() {
	t.mu.Lock()
	t.closed = true
	t.clear()
	t.mu.Unlock()
	t.wake()
}

func (t *tap) stats() ReaderStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.st
	s.Queued = t.n
	return s
}

// group is the set of readers of one broadcast and its life cycle: the
// encoding goroutines start with the first reader, wait while there are
// none, and every reader is ended when the source ends or the broadcast
// is closed.
type group struct {
	joined chan struct{} // a reader was added

	mu      sync.Mutex
	taps    []*tap
	started bool
	closed  bool
	end     error
}

func newGroup() *group { return &group{joined: make(chan struct{}, 1)} }

// add adds t, calling start (under the lock) for the first reader ever.
func (g *group) add(t *tap, start func()) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	if g.end != nil {
		t.end = g.end
		return nil
	}
	g.taps = append(g.taps, t)
	if !g.started {
		g.started = true
		start()
	}
	select {
	case g.joined <- struct{}{}:
	default:
	}
	return nil
}

// remove detaches t and reports whether it was attached.
func (g *group) remove(t *tap) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.taps {
		if x == t {
			g.taps = slices.Delete(g.taps, i, i+1)
			return true
		}
	}
	return false
}

// attached reports whether t is one of the readers. The caller holds
// g.mu.
func (g *group) attached(t *tap) bool { return slices.Contains(g.taps, t) }

func (g *group) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.taps)
}

// snapshot appends the current readers to dst.
func (g *group) snapshot(dst []*tap) []*tap {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append(dst[:0], g.taps...)
}

// wait blocks while there are no readers. It returns false when ctx is
// done.
func (g *group) wait(ctx context.Context) bool {
	for {
		if g.count() > 0 {
			return true
		}
		select {
		case <-g.joined:
		case <-ctx.Done():
			return false
		}
	}
}

// finish ends every reader, present and future, with err; the first
// call wins.
func (g *group) finish(err error) {
	g.mu.Lock()
	if g.end != nil {
		g.mu.Unlock()
		return
	}
	g.end = err
	taps := g.taps
	g.taps = nil
	g.mu.Unlock()
	for _, t := range taps {
		t.finish(err)
	}
}

// markClosed refuses new readers and reports whether it was the first
// call.
func (g *group) markClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := !g.closed
	g.closed = true
	return first
}
