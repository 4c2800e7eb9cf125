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
