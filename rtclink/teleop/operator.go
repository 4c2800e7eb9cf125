package teleop

import (
	"encoding/json"
	"time"
)

// Millis is t on the protocol's clock: milliseconds since the Unix
// epoch. An operator program written in Go stamps its commands' T with
// it, as the viewer page does with its own clock.
func Millis(t time.Time) float64 { return ms(t) }

// AnswerSync is the operator's side of the clock sync, for an operator
// program written in Go: given a message from the robot's teleop channel
// and the operator's clock, it returns the sync-reply to send back on
// that channel and true, or false for any other message. Answer at once:
// time spent before answering counts as network delay.
func AnswerSync(data []byte, now func() time.Time) ([]byte, bool) {
	var m struct {
		Type string  `json:"type"`
		ID   uint64  `json:"id"`
		T0   float64 `json:"t0"`
	}
	if len(data) > MaxMessageBytes || json.Unmarshal(data, &m) != nil || m.Type != TypeSync {
		return nil, false
	}
	t1 := ms(now())
	return marshal(syncReply{Type: TypeSyncReply, ID: m.ID, T0: m.T0, T1: t1, T2: ms(now())}), true
}
