package rtclink

import "github.com/pion/webrtc/v4"

// State is the peer connection's state. The zero value, StateNone, means
// there is no peer connection (no peer yet, or between calls).
type State = webrtc.PeerConnectionState

// The states a peer connection goes through.
const (
	StateNone         State = webrtc.PeerConnectionStateUnknown
	StateNew          State = webrtc.PeerConnectionStateNew
	StateConnecting   State = webrtc.PeerConnectionStateConnecting
	StateConnected    State = webrtc.PeerConnectionStateConnected
	StateDisconnected State = webrtc.PeerConnectionStateDisconnected
	StateFailed       State = webrtc.PeerConnectionStateFailed
	StateClosed       State = webrtc.PeerConnectionStateClosed
)

// Channel is a data channel's label. Any label works: a session accepts
// every channel its peer opens (a browser page's "teleop", say) and sends
// on any open channel by its label. Reliable and Unreliable are the two
// a session opens itself when Config.DataChannels is set.
type Channel string

const (
	// Reliable is ordered and retransmitted: teleop commands that must
	// all arrive, in order.
	Reliable Channel = "avlink-reliable"
	// Unreliable is unordered with no retransmission: telemetry where
	// only the newest value matters.
	Unreliable Channel = "avlink-unreliable"
)

// String returns the label.
func (c Channel) String() string { return string(c) }

// ChannelConfig describes a data channel the offerer opens besides the
// two defaults.
type ChannelConfig struct {
	// Label names the channel; the peer sees it as the channel's label.
	Label Channel
	// Unordered lets messages overtake each other.
	Unordered bool
	// MaxRetransmits bounds retransmissions of a message; nil retransmits
	// until it arrives (reliable). 0 never retransmits.
	MaxRetransmits *uint16
}
