package rtclink

import (
	"context"
	"sync"

	"github.com/avlink/avlink/signal"
)

// hubSignaler is the Signaler a Hub gives the session of one viewer: what
// the session sends goes to that viewer only, and it receives what the
// Hub routes to it.
type hubSignaler struct {
	h      *Hub
	viewer string
	in     *queue[signal.Message]

	once   sync.Once
	closed chan struct{}
}

var _ signal.JoinAcknowledger = (*hubSignaler)(nil)

func newHubSignaler(h *Hub, viewer string) *hubSignaler {
	return &hubSignaler{h: h, viewer: viewer, in: newQueue[signal.Message](), closed: make(chan struct{})}
}

// AcknowledgesJoins is true: the Hub hands each session a "joined".
func (s *hubSignaler) AcknowledgesJoins() bool { return true }

func (s *hubSignaler) deliver(m signal.Message) { s.in.push(m) }

// Send sends m to the viewer, whatever its To says.
func (s *hubSignaler) Send(ctx context.Context, m signal.Message) error {
	select {
	case <-s.closed:
		return signal.ErrClosed
	default:
	}
	m.To = s.viewer
	return s.h.cfg.Signaler.Send(ctx, m)
}

// Recv returns the next message routed to the viewer's session.
func (s *hubSignaler) Recv(ctx context.Context) (signal.Message, error) {
	for {
		s.in.mu.Lock()
		if len(s.in.items) > 0 {
			m := s.in.items[0]
			s.in.items = s.in.items[1:]
			s.in.mu.Unlock()
			return m, nil
		}
		s.in.mu.Unlock()
		select {
		case <-s.in.notify:
		case <-s.closed:
			return signal.Message{}, signal.ErrClosed
		case <-s.h.ctx.Done():
			if err := s.h.Err(); err != nil {
				return signal.Message{}, err
			}
			return signal.Message{}, signal.ErrClosed
		case <-ctx.Done():
			return signal.Message{}, ctx.Err()
		}
	}
}

// Close stops the viewer's signaling; the Hub's Signaler stays open.
func (s *hubSignaler) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}
