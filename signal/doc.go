// Package signal carries WebRTC signaling between peers: offers, answers
// and ICE candidates as JSON text frames over a WebSocket.
//
// The wire format is the one existing browser pages and aiortc clients
// already speak:
//
//	{"type":"join","room":"realsense"}
//	{"type":"offer","sdp":"v=0..."}
//	{"type":"answer","sdp":"v=0..."}
//	{"type":"candidate","candidate":{"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0}}
//
// The server adds "sender" (the id of the connection it came from) to every
// message it forwards and forwards each message only to the other members
// of the sender's room. A client that never joins is in the default room
// "", so room-less clients still reach each other. Unknown fields and
// unknown message types are forwarded untouched.
//
// Extensions that older clients ignore: after a join the server answers
// {"type":"joined","id":...,"room":...,"peers":[...]}; the other members get
// {"type":"peer-joined","peer":...} and later {"type":"peer-left","peer":...};
// a message with "to" reaches that one peer only; refused input is answered
// with {"type":"error","code":...,"message":...}. A join may carry "id", the
// id the client had before its connection dropped: the server gives it back
// when no connected peer has it, so the client's peers still know it.
//
// [Server] is an http.Handler to mount in any mux. [Dial] returns a
// [Client], a [Signaler] that joins a room and reconnects by itself.
package signal
