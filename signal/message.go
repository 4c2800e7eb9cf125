package signal

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message types of the wire protocol (see the package documentation).
const (
	// TypeJoin asks the server to move the sender into Room.
	TypeJoin = "join"
	// TypeOffer carries an SDP offer.
	TypeOffer = "offer"
	// TypeAnswer carries an SDP answer.
	TypeAnswer = "answer"
	// TypeCandidate carries one trickled ICE candidate.
	TypeCandidate = "candidate"
	// TypeJoined is the server's answer to a join: the receiver's ID, its
	// Room and the other Peers in it.
	TypeJoined = "joined"
	// TypePeerJoined tells the members of a room that Peer came in.
	TypePeerJoined = "peer-joined"
	// TypePeerLeft tells the members of a room that Peer went away.
	TypePeerLeft = "peer-left"
	// TypeError is the server's refusal of a message, with Code and
	// Reason.
	TypeError = "error"

	// TypeReconnected is never sent on the wire: a Signaler delivers it
	// from Recv after it has reconnected and rejoined its room, so a
	// session can restart ICE.
	TypeReconnected = "reconnected"
)

// Candidate is an ICE candidate in the JSON shape of the browser's
// RTCIceCandidate.toJSON(), which is also webrtc.ICECandidateInit's.
type Candidate struct {
	// Candidate is the candidate line, "candidate:..."; empty marks the
	// end of candidates.
	Candidate string `json:"candidate"`
	// SDPMid is the media stream identification the candidate is for.
	SDPMid *string `json:"sdpMid,omitempty"`
	// SDPMLineIndex is the index of the m-line the candidate is for.
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
	// UsernameFragment is the ICE ufrag the candidate belongs to.
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Message is one signaling message. Fields that a type does not use stay
// empty and are left out of the JSON.
type Message struct {
	// Type is one of the Type constants, or any other string: unknown
	// types are forwarded untouched.
	Type string `json:"type"`
	// Room is set on join and joined.
	Room string `json:"room,omitempty"`
	// SDP is set on offer and answer.
	SDP string `json:"sdp,omitempty"`
	// Candidate is set on candidate messages.
	Candidate *Candidate `json:"candidate,omitempty"`
	// Sender is added by the server: the id of the peer that sent it.
	Sender string `json:"sender,omitempty"`
	// To addresses one peer of the room instead of all of them.
	To string `json:"to,omitempty"`
	// ID is the receiver's own id, in joined.
	ID string `json:"id,omitempty"`
	// Peer is the peer that came or went, in peer-joined and peer-left.
	Peer string `json:"peer,omitempty"`
	// Peers lists the other members of the room, in joined, in the
	// order they joined.
	Peers []string `json:"peers,omitempty"`
	// Code says, in an error message, what was refused: one of the Code
	// constants.
	Code string `json:"code,omitempty"`
	// Reason explains an error message to a person. It is "message" on
	// the wire.
	Reason string `json:"message,omitempty"`

	// Raw is the message as it arrived (set by ParseMessage), with any
	// fields this struct does not know. It is not sent: a Signaler's Send
	// marshals the fields above.
	Raw json.RawMessage `json:"-"`
}

// ParseMessage decodes one text frame. It accepts any JSON object; a
// message with no type has Type "".
func ParseMessage(data []byte) (Message, error) {
	var m Message
	d := bytes.TrimSpace(data)
	if len(d) == 0 || d[0] != '{' {
		return m, fmt.Errorf("%w: not a JSON object", ErrBadMessage)
	}
	if err := json.Unmarshal(d, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	m.Raw = append(json.RawMessage(nil), d...)
	return m, nil
}
