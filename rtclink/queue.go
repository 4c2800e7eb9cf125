package rtclink

import "sync"

// queue is an unbounded FIFO whose push never blocks, so pion callbacks
// can hand work to the session loop without ever waiting on it.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	notify chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{notify: make(chan struct{}, 1)} }

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// drain returns everything queued so far.
func (q *queue[T]) drain() []T {
	q.mu.Lock()
	out := q.items
	q.items = nil
	q.mu.Unlock()
	return out
}

// mailbox holds at most one value: a newer put replaces an older one that
// was never taken. It is how the video pipeline drops stale frames rather
// than queue them behind a slow encoder.
type mailbox[T any] struct {
	mu     sync.Mutex
	v      T
	full   bool
	notify chan struct{}
}

func newMailbox[T any]() *mailbox[T] { return &mailbox[T]{notify: make(chan struct{}, 1)} }

// put stores v and returns the untaken value it replaced, if any.
func (m *mailbox[T]) put(v T) (old T, replaced bool) {
	m.mu.Lock()
	old, replaced = m.v, m.full
	m.v, m.full = v, true
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
	return old, replaced
}

// putIfEmpty stores v unless a value is already waiting (a newer one),
// and reports whether it did.
func (m *mailbox[T]) putIfEmpty(v T) bool {
	m.mu.Lock()
	if m.full {
		m.mu.Unlock()
		return false
	}
	m.v, m.full = v, true
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
	return true
}

func (m *mailbox[T]) take() (v T, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.full {
		return v, false
	}
	v, m.v, m.full = m.v, *new(T), false
	return v, true
}
