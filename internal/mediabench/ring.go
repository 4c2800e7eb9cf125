package mediabench

import (
	"context"
	"slices"
	"sync"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/stamp"
)

// FrameRing keeps copies of the last few frames a source produced, keyed
// by their stamp counter, so a receiver in the same process can compare
// what it decoded with what was sent. It is safe for concurrent use.
type FrameRing struct {
	mu     sync.Mutex
	frames map[uint16]*capture.VideoFrame
	order  []uint16
	size   int
}

// NewFrameRing returns a ring holding up to size frames (at least 1).
func NewFrameRing(size int) *FrameRing {
	return &FrameRing{frames: make(map[uint16]*capture.VideoFrame), size: max(1, size)}
}

// Put stores a copy of f under counter, dropping the oldest frame when
// the ring is full.
func (r *FrameRing) Put(counter uint16, f *capture.VideoFrame) {
	c := *f
	c.Data = slices.Clone(f.Data)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.frames[counter]; !ok {
		r.order = append(r.order, counter)
	}
	r.frames[counter] = &c
	for len(r.order) > r.size {
		delete(r.frames, r.order[0])
		r.order = r.order[1:]
	}
}

// Get returns the frame stored under counter, or nil.
func (r *FrameRing) Get(counter uint16) *capture.VideoFrame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames[counter]
}

// ringSource is a VideoSource that records each stamped frame it passes
// on in a FrameRing.
type ringSource struct {
	capture.VideoSource
	ring *FrameRing
}

func (s ringSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	f, err := s.VideoSource.ReadVideo(ctx)
	if err != nil {
		return nil, err
	}
	if _, n, err := stamp.Read(f); err == nil {
		s.ring.Put(n, f)
	}
	return f, nil
}
