package rtclink

import "github.com/pion/webrtc/v4"

// State is the peer connection's state: new, connecting, connected,
// disconnected, failed or closed.
type State = webrtc.PeerConnectionState

// Channel names one of the session's two data channels.
type Channel int

const (
	// Reliable is ordered and retransmitted: teleop commands that must
	// all arrive, in order.
	Reliable Channel = iota
	// Unreliable is unordered with no retransmission: telemetry where
	// only the newest value matters.
	Unreliable
)

// String returns "reliable" or "unreliable".
func (c Channel) String() string {
	if c == Unreliable {
		return "unreliable"
	}
	return "reliable"
}

func (c Channel) label() string { return "avlink-" + c.String() }
