package capture

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// ErrClosed reports a read from a shared-source reader after its Close, or
// a NewReader on a [SharedVideo] or [SharedAudio] whose source has been
// closed.
var ErrClosed = errors.New("capture: shared source closed")

// Bounds of each [SharedAudioReader]'s queue: audio is never skipped, so a
// reader that falls behind is given what it missed, but never more than
// this; beyond it the oldest blocks are dropped and counted.
const (
	// SharedAudioBlocks is the most blocks a reader's queue holds.
	SharedAudioBlocks = 64
	// SharedAudioSpan is the most audio a reader's queue holds.
	SharedAudioSpan = 500 * time.Millisecond
)

// SharedVideo lets several consumers read one [VideoSource]: a robot's
// camera opened once and sent to several viewers, each by its own rtclink
// session. Each consumer takes a reader from NewReader and uses it as its
// source; the reader's Close detaches that consumer only, and the camera
// is closed when the last reader is, so a session ending (which closes
// its source) releases the camera only when no other session uses it.
//
// One goroutine, started with the first reader, reads the source and
// gives every frame to every reader. Each reader has a one-frame mailbox:
// a reader that falls behind gets the newest frame when it reads again,
// and never holds up the source or the other readers. Every reader is
// given the same *[VideoFrame], so readers must treat frames as
// read-only; frames whose Time is zero are stamped on arrival, before
// they are handed out. Frames are never recycled to the source (a
// [VideoRecycler] source just allocates), and readers do not implement
// VideoRecycler.
//
// When the source ends (io.EOF) or fails, each reader returns what it
// still holds and then that error, on every later read too.
type SharedVideo struct{ h *hub[*VideoFrame] }

// ShareVideo returns a SharedVideo reading src. Nothing is read from src
// before the first NewReader.
func ShareVideo(src VideoSource) *SharedVideo {
	return &SharedVideo{h: newHub(src.ReadVideo, src.Close, videoFull, func(f *VideoFrame) bool {
		if f == nil {
			return false
		}
		if f.Time.IsZero() {
			f.Time = time.Now() // once here, not concurrently by each reader
		}
		return true
	})}
}

// NewReader returns a new consumer of the source, which receives every
// frame captured from now on. It returns [ErrClosed] once the
// SharedVideo is closed or its last reader has been.
func (s *SharedVideo) NewReader() (*SharedVideoReader, error) {
	t, err := s.h.newTap()
	if err != nil {
		return nil, err
	}
	return &SharedVideoReader{t: t}, nil
}

// Close closes the source and ends every reader: once each has returned
// the frame it still holds, its reads return io.EOF. Close returns the
// source's Close error, to every call.
func (s *SharedVideo) Close() error { return s.h.closeAll() }

// SharedVideoReader is one consumer of a [SharedVideo]. It is a
// [VideoSource], to be given wherever one is wanted, such as an rtclink
// VideoSender's Source.
type SharedVideoReader struct{ t *tap[*VideoFrame] }

// ReadVideo returns the newest frame this reader has not had yet, waiting
// for the next one if there is none. The frame is shared with the other
// readers: do not modify it. It returns ctx.Err() when ctx is done, which
// does not affect the other readers, and [ErrClosed] after Close.
func (r *SharedVideoReader) ReadVideo(ctx context.Context) (*VideoFrame, error) {
	return r.t.read(ctx)
}

// Close detaches the reader, making a blocked ReadVideo return. Closing
// the last reader closes the source and returns its Close error. Close
// may be called more than once.
func (r *SharedVideoReader) Close() error { return r.t.close() }

// Dropped returns how many frames were replaced by a newer one before
// this reader read them.
func (r *SharedVideoReader) Dropped() uint64 { return r.t.droppedCount() }

// SharedAudio lets several consumers read one [AudioSource], as
// [SharedVideo] does for video: a reader per consumer, the source closed
// with the last reader or by Close, one goroutine started with the first
// reader, and the same *[AudioFrame] given to every reader, which must
// treat it as read-only.
//
// Audio is not skipped: each reader has a queue, so a reader that falls
// behind gets the blocks it missed. The queue holds at most
// [SharedAudioBlocks] blocks and [SharedAudioSpan] of audio; a reader
// further behind loses the oldest blocks, counted by Dropped, and never
// holds up the source or the other readers.
type SharedAudio struct{ h *hub[*AudioFrame] }

// ShareAudio returns a SharedAudio reading src. Nothing is read from src
// before the first NewReader.
func ShareAudio(src AudioSource) *SharedAudio {
	return &SharedAudio{h: newHub(src.ReadAudio, src.Close, audioFull, func(f *AudioFrame) bool { return f != nil })}
}

// NewReader returns a new consumer of the source, which receives every
// block captured from now on. It returns [ErrClosed] once the
// SharedAudio is closed or its last reader has been.
func (s *SharedAudio) NewReader() (*SharedAudioReader, error) {
	t, err := s.h.newTap()
	if err != nil {
		return nil, err
	}
	return &SharedAudioReader{t: t}, nil
}

// Close closes the source and ends every reader: once each has returned
// the blocks it still holds, its reads return io.EOF. Close returns the
// source's Close error, to every call.
func (s *SharedAudio) Close() error { return s.h.closeAll() }

// SharedAudioReader is one consumer of a [SharedAudio]. It is an
// [AudioSource], to be given wherever one is wanted, such as an rtclink
// AudioSender's Source.
type SharedAudioReader struct{ t *tap[*AudioFrame] }

// ReadAudio returns the oldest block this reader has not had yet, waiting
// for the next one if there is none. The block is shared with the other
// readers: do not modify it. It returns ctx.Err() when ctx is done, which
// does not affect the other readers, and [ErrClosed] after Close.
func (r *SharedAudioReader) ReadAudio(ctx context.Context) (*AudioFrame, error) {
	return r.t.read(ctx)
}

// Close detaches the reader, making a blocked ReadAudio return. Closing
// the last reader closes the source and returns its Close error. Close
// may be called more than once.
func (r *SharedAudioReader) Close() error { return r.t.close() }

// Dropped returns how many blocks were dropped from this reader's queue
// because it fell too far behind.
func (r *SharedAudioReader) Dropped() uint64 { return r.t.droppedCount() }

// videoFull keeps one frame per reader: the newest.
func videoFull(q []*VideoFrame, _ *VideoFrame) bool { return len(q) >= 1 }

// audioFull reports whether q must lose its oldest block to take next.
func audioFull(q []*AudioFrame, next *AudioFrame) bool {
	if len(q) >= SharedAudioBlocks {
		return true
	}
	span := next.Duration()
	for _, f := range q {
		span += f.Duration()
	}
	return span > SharedAudioSpan
}

// hub reads one source on one goroutine and hands each item to every tap.
type hub[T any] struct {
	read    func(context.Context) (T, error)
	closeFn func() error
	// full reports whether a tap's queue must lose its oldest item to
	// take next.
	full func(q []T, next T) bool
	// accept prepares an item for sharing, or rejects it (a nil frame).
	accept func(T) bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu      sync.Mutex
	taps    map[*tap[T]]struct{}
	started bool
	closed  bool  // the source is (being) closed: no new taps
	err     error // how the source ended, once it has

	closeOnce sync.Once
	closeErr  error
}

func newHub[T any](read func(context.Context) (T, error), closeFn func() error, full func([]T, T) bool, accept func(T) bool) *hub[T] {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub[T]{
		read: read, closeFn: closeFn, full: full, accept: accept,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		taps: make(map[*tap[T]]struct{}),
	}
}

func (h *hub[T]) newTap() (*tap[T], error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	t := &tap[T]{h: h, wake: make(chan struct{}, 1)}
	h.taps[t] = struct{}{}
	if !h.started {
		h.started = true
		go h.run()
	}
	return t, nil
}

func (h *hub[T]) run() {
	defer close(h.done)
	for {
		v, err := h.read(h.ctx)
		if h.ctx.Err() != nil {
			return // closing: whatever the read returned is not news
		}
		if err != nil {
			h.mu.Lock()
			if h.err == nil {
				h.err = err
			}
			for t := range h.taps {
				t.signal()
			}
			h.mu.Unlock()
			return
		}
		if !h.accept(v) {
			continue
		}
		h.mu.Lock()
		for t := range h.taps {
			t.push(v)
		}
		h.mu.Unlock()
	}
}

// closeAll ends every tap with io.EOF and closes the source.
func (h *hub[T]) closeAll() error {
	h.mu.Lock()
	h.closed = true
	if h.err == nil {
		h.err = io.EOF
	}
	for t := range h.taps {
		t.signal()
	}
	h.mu.Unlock()
	return h.shutdown()
}

// shutdown stops the goroutine and closes the source, once. The source is
// closed before the goroutine is waited for, so that a source whose read
// ignores ctx is unblocked by its Close.
func (h *hub[T]) shutdown() error {
	h.closeOnce.Do(func() {
		h.cancel()
		h.closeErr = h.closeFn()
		h.mu.Lock()
		started := h.started
		h.mu.Unlock()
		if started {
			<-h.done
		}
	})
	return h.closeErr
}

// tap is one reader's queue. Its fields other than h and wake are guarded
// by h.mu.
type tap[T any] struct {
	h       *hub[T]
	wake    chan struct{} // capacity 1: something changed
	q       []T
	closed  bool
	dropped uint64
}

func (t *tap[T]) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *tap[T]) push(v T) {
	for len(t.q) > 0 && t.h.full(t.q, v) {
		t.pop()
		t.dropped++
	}
	t.q = append(t.q, v)
	t.signal()
}

func (t *tap[T]) pop() T {
	var zero T
	v := t.q[0]
	copy(t.q, t.q[1:])
	t.q[len(t.q)-1] = zero
	t.q = t.q[:len(t.q)-1]
	return v
}

func (t *tap[T]) read(ctx context.Context) (T, error) {
	var zero T
	h := t.h
	for {
		h.mu.Lock()
		switch {
		case t.closed:
			h.mu.Unlock()
			return zero, ErrClosed
		case len(t.q) > 0:
			v := t.pop()
			h.mu.Unlock()
			return v, nil
		case h.err != nil:
			err := h.err
			h.mu.Unlock()
			return zero, err
		}
		h.mu.Unlock()
		select {
		case <-t.wake:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}

func (t *tap[T]) close() error {
	h := t.h
	h.mu.Lock()
	if t.closed {
		h.mu.Unlock()
		return nil
	}
	t.closed = true
	t.q = nil
	delete(h.taps, t)
	last := len(h.taps) == 0 && !h.closed
	if last {
		h.closed = true
	}
	t.signal()
	h.mu.Unlock()
	if last {
		return h.shutdown()
	}
	return nil
}

func (t *tap[T]) droppedCount() uint64 {
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	return t.dropped
}
