// Package signal defines WebRTC signaling for avlink: the messages two
// peers exchange to set up a call (offers, answers, ICE candidates) and
// the [Signaler] interface a session sends and receives them through.
//
// This package has the types only, and no network code. Two subpackages
// carry the messages over WebSocket:
//
//   - [github.com/avlink/avlink/signal/wsclient]: Dial connects to a
//     signaling server, joins a room and returns a Client, a Signaler that
//     reconnects by itself.
//   - [github.com/avlink/avlink/signal/wsserver]: New returns a Server, an
//     http.Handler that relays messages between the members of a room.
//
// # Using it
//
// Run a server (or go run ./examples/signal-server):
//
//	srv, err := wsserver.New(wsserver.Config{})
//	...
//	http.ListenAndServe(":3000", srv.Handler())
//
// Each peer dials it and hands the Client to its session:
//
//	sig, err := wsclient.Dial(ctx, "ws://signal.example.com:3000", "realsense", nil)
//	...
//	sess, err := rtclink.New(rtclink.Config{Signaler: sig, ...})
//
// Any other transport (a message bus, a test pipe) works once it
// implements [Signaler]; see the Signaler example.
//
// # Wire protocol
//
// The protocol is the one of the original deployment this module
// replaces: a Node.js signaling server relaying JSON between a browser
// page and Python aiortc clients. Each message is one JSON object in a
// WebSocket text frame:
//
//	{"type":"join","room":"realsense"}
//	{"type":"offer","sdp":"v=0..."}
//	{"type":"answer","sdp":"v=0..."}
//	{"type":"candidate","candidate":{"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0}}
//
// The server adds "sender" (the id of the connection it came from) to
// every message it forwards, and forwards each message to the other
// members of the sender's room only. A client that never joins is in the
// default room "", so room-less clients (as the original ones are) still
// reach each other. Unknown fields and unknown message types are
// forwarded untouched.
//
// The server of wsserver adds extensions that the original clients
// ignore:
//
//   - After a join it answers {"type":"joined","id":...,"room":...,"peers":[...]},
//     and the other members get {"type":"peer-joined","peer":...} and, when
//     it leaves, {"type":"peer-left","peer":...}.
//   - A join may carry "id", the id the client had before its connection
//     dropped: the server gives it back when no connected peer has it, so
//     the client's peers still know it.
//   - A message with "to" reaches that one peer of the room only.
//   - Refused input is answered with {"type":"error","code":...,"message":...};
//     the codes are the Code constants (a full room: [CodeRoomFull]).
//   - Its WebSocket upgrade response carries the header [FeaturesHeader]
//     listing [FeatureRooms], so a client knows before it joins that joins
//     are answered; the original Node.js server sends no such header and
//     answers no join (see [JoinAcknowledger]).
//
// Before the upgrade the server may require a token, sent as
// "Authorization: Bearer <token>" or as the query parameter "token", and
// refuses a wrong one, or a browser Origin it does not allow, with HTTP
// 403. A server shutting down closes connections with status 1001 (going
// away); a message over its size limit closes that connection with 1009.
//
// # Errors
//
// A Signaler's Recv returns [ErrClosed] after Close. One that stops by
// itself returns why, wrapped with details: [ErrUnauthorized] (its token
// or origin was refused), [ErrRoomFull] (its join was refused) or
// [ErrUnreachable] (the server stayed away too long). The first two need a
// person to fix something; the last one may pass.
package signal
