package teleop

import (
	"encoding/json"
	"fmt"
	"math"
)

// The types of the other messages on the two channels.
const (
	TypeRefused    = "refused"     // robot: a command it did not execute, and why
	TypeSync       = "sync"        // robot: a clock probe
	TypeSyncReply  = "sync-reply"  // page: its answer to a sync
	TypeClock      = "clock"       // robot: its clock estimate
	TypeStopped    = "stopped"     // robot: it stopped by itself, and why
	TypeEStop      = "estop"       // page, E-stop channel: stop and latch
	TypeRelease    = "release"     // page, E-stop channel: unlatch
	TypeEStopState = "estop-state" // robot, E-stop channel: the latch after each message

	TypeControl        = "control"         // robot: who drives, sent to every viewer of a Control
	TypeControlRequest = "control-request" // page: asks to drive
	TypeControlRelease = "control-release" // page: lets go of control
)

// Refusal is why the robot did not execute a command, the "why" of a
// refused message.
type Refusal string

// The reasons for a refusal.
const (
	// RefusedStale: older than Config.MaxAge on the synced clock.
	RefusedStale Refusal = "stale"
	// RefusedOrder: its seq is not above the last accepted one (a
	// duplicate, or overtaken by a newer command).
	RefusedOrder Refusal = "order"
	// RefusedEStop: the E-stop is latched.
	RefusedEStop Refusal = "estop"
	// RefusedUnsynced: no clock estimate yet, so its age is unknown.
	RefusedUnsynced Refusal = "unsynced"
	// RefusedObserver: another viewer holds control (see [Control]).
	RefusedObserver Refusal = "observer"
	// RefusedChannel: the page's E-stop channel has closed (the page is
	// leaving, or can no longer stop the robot), so nothing it sent runs
	// until it opens the teleop channel again.
	RefusedChannel Refusal = "channel"
)

// StopReason is why the robot stopped by itself, the "why" of a stopped
// message and the argument of Config.OnStop.
type StopReason string

// The reasons for a stop.
const (
	// StopDeadman: no valid command for Config.Deadman while driving.
	StopDeadman StopReason = "deadman"
	// StopLink: the connection to the page was lost.
	StopLink StopReason = "link"
	// StopChannel: the teleop or E-stop channel closed.
	StopChannel StopReason = "channel"
	// StopEStop: the page's E-stop.
	StopEStop StopReason = "estop"
	// StopControl: control passed to another viewer while this one
	// drove (see [Control]).
	StopControl StopReason = "control"
)

func refusedMsg(c Command, why Refusal) []byte {
	return marshal(struct {
		Type string  `json:"type"`
		Seq  uint64  `json:"seq"`
		T    float64 `json:"t"`
		Why  Refusal `json:"why"`
	}{TypeRefused, c.Seq, c.T, why})
}

func syncMsg(id uint64, t0 float64) []byte {
	return marshal(struct {
		Type string  `json:"type"`
		ID   uint64  `json:"id"`
		T0   float64 `json:"t0"`
	}{TypeSync, id, t0})
}

func clockMsg(s sample) []byte {
	return marshal(struct {
		Type   string  `json:"type"`
		Offset float64 `json:"offset"`
		RTT    float64 `json:"rtt"`
		Err    float64 `json:"err"`
	}{TypeClock, s.offset, s.rtt, s.rtt / 2})
}

func stoppedMsg(why StopReason) []byte {
	return marshal(struct {
		Type string     `json:"type"`
		Why  StopReason `json:"why"`
	}{TypeStopped, why})
}

func estopStateMsg(latched bool, seq uint64) []byte {
	return marshal(struct {
		Type    string `json:"type"`
		Latched bool   `json:"latched"`
		Seq     uint64 `json:"seq"`
	}{TypeEStopState, latched, seq})
}

// syncReply is the page's answer to a sync.
type syncReply struct {
	Type string  `json:"type"`
	ID   uint64  `json:"id"`
	T0   float64 `json:"t0"`
	T1   float64 `json:"t1"`
	T2   float64 `json:"t2"`
}

// estopMsg is one message of the E-stop channel.
type estopMsg struct {
	Type string  `json:"type"`
	Seq  uint64  `json:"seq"`
	T    float64 `json:"t"`
}

// peekType reads a message's type, failing as Parse does on what is not
// a JSON object of at most MaxMessageBytes.
func peekType(data []byte) (string, error) {
	if len(data) > MaxMessageBytes {
		return "", fmt.Errorf("%w: %d bytes", ErrBadCommand, len(data))
	}
	var m struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	return m.Type, nil
}

func parseSyncReply(data []byte) (syncReply, error) {
	var m syncReply
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	return m, nil
}

// parseEStop reads one message of the E-stop channel: an estop or a
// release.
func parseEStop(data []byte) (estopMsg, error) {
	var m estopMsg
	if len(data) > MaxMessageBytes {
		return m, fmt.Errorf("%w: %d bytes", ErrBadCommand, len(data))
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	if m.Type != TypeEStop && m.Type != TypeRelease {
		return m, fmt.Errorf("%w: type %q on the E-stop channel", ErrBadCommand, m.Type)
	}
	if math.IsNaN(m.T) || math.IsInf(m.T, 0) {
		return m, fmt.Errorf("%w: not a number", ErrBadCommand)
	}
	return m, nil
}
