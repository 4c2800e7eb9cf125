package signal

import "errors"

var (
	// ErrClosed is returned by a Signaler after Close.
	ErrClosed = errors.New("signal: closed")
	// ErrBadMessage reports input that is not a JSON object.
	ErrBadMessage = errors.New("signal: malformed message")
	// ErrUnauthorized reports a refused token or origin.
	ErrUnauthorized = errors.New("signal: unauthorized")
)

// Error codes the server sends in {"type":"error","code":...} messages.
const (
	CodeInvalidJSON  = "invalid-json"
	CodeRateLimited  = "rate-limited"
	CodeRoomFull     = "room-full"
	CodeTooManyRooms = "too-many-rooms"
	CodeUnknownPeer  = "unknown-peer"
)

// errInterrupted ends a connection's wait for input when the server
// closes.
var errInterrupted = errors.New("signal: server closing")

// errYield is how batchConn hands a reader that would wait back to
// serve, between frames.
var errYield = errors.New("signal: nothing to read")
