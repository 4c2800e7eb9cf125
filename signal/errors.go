package signal

import "errors"

// Errors a Signaler returns. A Signaler that stops for good returns one of
// them from Recv (wrapped with details), so a program can tell a refusal
// it must fix from a network it may wait out: test with errors.Is.
var (
	// ErrClosed is returned by a Signaler after Close.
	ErrClosed = errors.New("signal: closed")
	// ErrBadMessage reports input that is not a JSON object.
	ErrBadMessage = errors.New("signal: malformed message")
	// ErrUnauthorized reports a refused token or origin.
	ErrUnauthorized = errors.New("signal: unauthorized")
	// ErrRoomFull reports a join the server refused: the room has as many
	// peers as it may hold, or the server as many rooms.
	ErrRoomFull = errors.New("signal: room full")
	// ErrUnreachable reports a server that could not be reached again
	// within the time a Signaler was given to reconnect.
	ErrUnreachable = errors.New("signal: server unreachable")
)

// Error codes the server sends in {"type":"error","code":...} messages.
const (
	// CodeInvalidJSON refuses a frame that is not a JSON object, or not
	// text.
	CodeInvalidJSON = "invalid-json"
	// CodeRateLimited refuses a message over the connection's rate limit.
	CodeRateLimited = "rate-limited"
	// CodeRoomFull refuses a join to a room that has as many peers as it
	// may hold.
	CodeRoomFull = "room-full"
	// CodeTooManyRooms refuses a join that would make a room when the
	// server has as many as it may hold.
	CodeTooManyRooms = "too-many-rooms"
	// CodeUnknownPeer refuses a message whose "to" names no peer of the
	// sender's room.
	CodeUnknownPeer = "unknown-peer"
	// CodeViewersFull is sent by a robot, not the server, to a viewer it
	// cannot serve because as many viewers as it allows are watching; the
	// viewer stays in the room and is called when a place frees up.
	CodeViewersFull = "viewers-full"
)
