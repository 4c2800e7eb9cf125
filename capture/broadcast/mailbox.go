package broadcast

import (
	"sync"

	"github.com/avlink/avlink/capture"
)

// mailbox holds at most one frame: a newer put replaces an older one the
// encoder never took, so latency does not grow behind a slow encoder.
type mailbox struct {
	notify chan struct{}

	mu sync.Mutex
	f  *capture.VideoFrame
}

func newMailbox() *mailbox { return &mailbox{notify: make(chan struct{}, 1)} }

// put stores f and returns the frame it replaced, or nil.
func (m *mailbox) put(f *capture.VideoFrame) (old *capture.VideoFrame) {
	m.mu.Lock()
	old, m.f = m.f, f
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
	return old
}

// take returns the waiting frame, or nil.
func (m *mailbox) take() *capture.VideoFrame {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.f
	m.f = nil
	return f
}
