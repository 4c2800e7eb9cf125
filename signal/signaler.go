package signal

import "context"

// Signaler sends and receives signaling messages. A session needs nothing
// more from its signaling channel, so anything that can carry these
// messages (a WebSocket, a NATS subject, a test pipe) can drive it.
type Signaler interface {
	// Send delivers m to the room (or to m.To).
	Send(ctx context.Context, m Message) error
	// Recv blocks until the next message arrives, ctx is done, or the
	// Signaler is closed (then it returns ErrClosed).
	Recv(ctx context.Context) (Message, error)
	Close() error
}
