package teleop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/avlink/avlink/rtclink"
)

// Label is the teleop channel's label: commands, their answers and the
// clock sync.
const Label rtclink.Channel = "teleop"

// EStopLabel is the E-stop channel's label.
const EStopLabel rtclink.Channel = "estop"

// The types of the page's commands, and the robot's answer to one it
// executed.
const (
	TypeDrive  = "drive"  // the page asks to move
	TypeStop   = "stop"   // the page asks to stop
	TypeAction = "action" // the page asks for a named action ("dock")
	TypeCustom = "custom" // the page sends the program any JSON value
	TypeEcho   = "echo"   // the robot executed the command
)

// MaxMessageBytes is the largest message Parse accepts.
const MaxMessageBytes = 1024

// MaxActionName is the longest action name, in characters.
const MaxActionName = 64

// ErrConfig reports a [Config] that cannot work.
var ErrConfig = errors.New("teleop: invalid config")

// ErrBadCommand reports a message that is not a valid command.
var ErrBadCommand = errors.New("teleop: bad command")

// ChannelConfig is the teleop channel a robot's session opens for the
// page (rtclink.Config.Channels): labelled Label, unordered, never
// retransmitted, since only the newest command matters and a late one is
// refused anyway.
func ChannelConfig() rtclink.ChannelConfig {
	none := uint16(0)
	return rtclink.ChannelConfig{Label: Label, Unordered: true, MaxRetransmits: &none}
}

// EStopChannelConfig is the E-stop channel a robot's session opens for
// the page: labelled EStopLabel, reliable and ordered, so that an E-stop
// and a release arrive, in the order they were pressed.
func EStopChannelConfig() rtclink.ChannelConfig {
	return rtclink.ChannelConfig{Label: EStopLabel}
}

// Channels is both channels a robot's session opens, for
// rtclink.Config.Channels.
func Channels() []rtclink.ChannelConfig {
	return []rtclink.ChannelConfig{ChannelConfig(), EStopChannelConfig()}
}

// Command is one command from the page.
type Command struct {
	// Type is TypeDrive, TypeStop, TypeAction or TypeCustom.
	Type string `json:"type"`
	// Seq numbers the page's commands from 1, all types on one counter.
	Seq uint64 `json:"seq"`
	// T is the page's clock, in milliseconds, when it sent the command.
	T float64 `json:"t"`
	// Linear is the forward speed and Angular the turn to the left, both
	// scaled to [-1, 1] as a ROS Twist's linear.x and angular.z; zero in
	// every command but a drive.
	Linear  float64 `json:"linear"`
	Angular float64 `json:"angular"`
	// Name is an action's name, 1 to MaxActionName characters.
	Name string `json:"name,omitempty"`
	// Data is a custom command's JSON value, as the page sent it.
	Data json.RawMessage `json:"data,omitempty"`
}

// Moving reports whether c asks the robot to move.
func (c Command) Moving() bool { return c.Type == TypeDrive && (c.Linear != 0 || c.Angular != 0) }

// Parse reads one command of the teleop channel. It fails, with an error
// wrapping ErrBadCommand, on anything but a drive (speeds in [-1, 1]), a
// stop, an action (a name of 1 to MaxActionName characters) or a custom
// command (a data value), or on a message over MaxMessageBytes.
func Parse(data []byte) (Command, error) {
	if len(data) > MaxMessageBytes {
		return Command{}, fmt.Errorf("%w: %d bytes", ErrBadCommand, len(data))
	}
	var c Command
	if err := json.Unmarshal(data, &c); err != nil {
		return Command{}, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	switch c.Type {
	case TypeDrive:
		c.Name, c.Data = "", nil
	case TypeStop:
		c.Linear, c.Angular, c.Name, c.Data = 0, 0, "", nil
	case TypeAction:
		n := utf8.RuneCountInString(c.Name)
		if n < 1 || n > MaxActionName {
			return Command{}, fmt.Errorf("%w: action name of %d characters", ErrBadCommand, n)
		}
		c.Linear, c.Angular, c.Data = 0, 0, nil
	case TypeCustom:
		if len(c.Data) == 0 {
			return Command{}, fmt.Errorf("%w: custom command without data", ErrBadCommand)
		}
		// Its own copy: data is the caller's buffer.
		c.Data = bytes.Clone(c.Data)
		c.Linear, c.Angular, c.Name = 0, 0, ""
	default:
		return Command{}, fmt.Errorf("%w: type %q", ErrBadCommand, c.Type)
	}
	for _, v := range []float64{c.Linear, c.Angular, c.T} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Command{}, fmt.Errorf("%w: not a number", ErrBadCommand)
		}
	}
	if math.Abs(c.Linear) > 1 || math.Abs(c.Angular) > 1 {
		return Command{}, fmt.Errorf("%w: speed %g / %g outside [-1, 1]", ErrBadCommand, c.Linear, c.Angular)
	}
	return c, nil
}

// Echo is the robot's answer to c, a command it executed.
func Echo(c Command) []byte {
	return marshal(struct {
		Type string  `json:"type"`
		Seq  uint64  `json:"seq"`
		T    float64 `json:"t"`
	}{TypeEcho, c.Seq, c.T})
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the package's own structs of numbers and strings get here.
		panic(err)
	}
	return b
}
