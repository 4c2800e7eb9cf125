// Package framepool keeps a few frame buffers that a video source's
// consumer handed back (capture.VideoRecycler), so the source's next frame
// reuses their memory instead of allocating a picture.
package framepool

import "sync"

// Max is how many buffers a Pool keeps: a consumer holds one or two
// frames at a time, so more would only hold memory.
const Max = 4

// Pool is a small stack of buffers. Its zero value is ready to use; it is
// safe for concurrent use.
type Pool struct {
	mu   sync.Mutex
	free [][]byte
}

// Put keeps b, emptied, for a later Get, unless the pool is full or b
// has no capacity.
func (p *Pool) Put(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	if len(p.free) < Max {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}

// Get returns a kept buffer of length 0, or nil when none is kept.
func (p *Pool) Get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		return nil
	}
	b := p.free[n-1]
	p.free = p.free[:n-1]
	return b
}

// Sized returns a buffer of length n: a kept one when its capacity is
// enough, a new one otherwise.
func (p *Pool) Sized(n int) []byte {
	if b := p.Get(); cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}
