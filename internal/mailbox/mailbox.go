// Package mailbox holds the newest of a stream of values for one
// consumer: a newer put replaces a value never taken, which is how the
// video pipelines drop stale frames rather than queue them behind a slow
// encoder.
package mailbox

import "sync"

// Box holds at most one value. Notify is signalled after each put.
type Box[T any] struct {
	mu   sync.Mutex
	v    T
	full bool
	// Notify has a signal waiting after a put, until received.
	Notify chan struct{}
}

// New returns an empty Box.
func New[T any]() *Box[T] { return &Box[T]{Notify: make(chan struct{}, 1)} }

// Put stores v and returns the untaken value it replaced, if any.
func (m *Box[T]) Put(v T) (old T, replaced bool) {
	m.mu.Lock()
	old, replaced = m.v, m.full
	m.v, m.full = v, true
	m.mu.Unlock()
	m.signal()
	return old, replaced
}

// PutIfEmpty stores v unless a value is already waiting (a newer one),
// and reports whether it did.
func (m *Box[T]) PutIfEmpty(v T) bool {
	m.mu.Lock()
	if m.full {
		m.mu.Unlock()
		return false
	}
	m.v, m.full = v, true
	m.mu.Unlock()
	m.signal()
	return true
}

// Take returns the waiting value, if any, and empties the Box.
func (m *Box[T]) Take() (v T, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.full {
		return v, false
	}
	v, m.v, m.full = m.v, *new(T), false
	return v, true
}

func (m *Box[T]) signal() {
	select {
	case m.Notify <- struct{}{}:
	default:
	}
}
