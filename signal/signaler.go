package signal

import "context"

// Signaler sends and receives signaling messages. A session needs nothing
// more from its signaling channel, so anything that can carry these
// messages (a WebSocket, a NATS subject, a test pipe) can drive it.
type Signaler interface {
	// Send delivers m to the room (or to m.To).
	Send(ctx context.Context, m Message) error
	// Recv blocks until the next message arrives, ctx is done, or the
	// Signaler stops. After Close it returns ErrClosed; a Signaler that
	// stops by itself returns why (ErrUnauthorized, ErrRoomFull,
	// ErrUnreachable, wrapped with details).
	Recv(ctx context.Context) (Message, error)
	// Close stops the Signaler and releases what it holds; Send and Recv
	// then return ErrClosed. It may be called more than once.
	Close() error
}

// JoinAcknowledger is implemented by a Signaler that knows whether its
// server answers a join with "joined" and announces peers with
// "peer-joined" and "peer-left". The Node.js signaling server of the
// original deployment does neither: a session offers at once through a
// Signaler whose AcknowledgesJoins is false, instead of waiting for an
// answer that never comes. A Signaler without this method is taken to
// acknowledge joins.
type JoinAcknowledger interface {
	// AcknowledgesJoins reports whether the server answers joins and
	// announces peers.
	AcknowledgesJoins() bool
}

// FeaturesHeader is the HTTP response header a server sets on the
// WebSocket upgrade to list, comma-separated, the extensions of the wire
// protocol it speaks. A client knows from it, before it sends anything,
// what to expect; a server that sends no such header (the original
// Node.js server) speaks none of them.
const FeaturesHeader = "Avlink-Signal"

// FeatureRooms, in [FeaturesHeader], says that the server keeps rooms,
// answers a join with "joined" (or an error) and announces peers with
// "peer-joined" and "peer-left".
const FeatureRooms = "rooms"
