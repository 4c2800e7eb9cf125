package signal

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message types of the wire protocol.
const (
	TypeJoin       = "join"
	TypeOffer      = "offer"
	TypeAnswer     = "answer"
	TypeCandidate  = "candidate"
	TypeJoined     = "joined"
	TypePeerJoined = "peer-joined"
	TypePeerLeft   = "peer-left"
	TypeError      = "error"

	// TypeReconnected is never sent on the wire: a Client delivers it
	// from Recv after it has reconnected and rejoined its room, so a
	// session can restart ICE.
	TypeReconnected = "reconnected"
)

// Candidate is an ICE candidate in the JSON shape of the browser's
// RTCIceCandidate.toJSON(), which is also webrtc.ICECandidateInit's.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Message is one signaling message. Fields that a type does not use stay
// empty and are left out of the JSON.
type Message struct {
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
	// Peers lists the other members of the room, in joined.
	Peers []string `json:"peers,omitempty"`
	// Code and Reason describe an error message.
	Code   string `json:"code,omitempty"`
	Reason string `json:"message,omitempty"`

	// Raw is the message as it arrived, with any fields this struct does
	// not know. It is not sent: Send marshals the fields above.
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
