package teleop

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/avlink/avlink/rtclink"
	"golang.org/x/time/rate"
)

// Label is the teleop channel's label.
const Label rtclink.Channel = "teleop"

// The types of the channel's messages.
const (
	TypeDrive = "drive" // the page asks to move
	TypeStop  = "stop"  // the page asks to stop
	TypeEcho  = "echo"  // the robot's answer to either
)

// MaxMessageBytes is the largest message Parse accepts.
const MaxMessageBytes = 1024

// ErrConfig reports a [Config] that cannot work.
var ErrConfig = errors.New("teleop: invalid config")

// ErrBadCommand reports a message that is not a valid command.
var ErrBadCommand = errors.New("teleop: bad command")

// ChannelConfig is the channel a robot's session opens for the page
// (rtclink.Config.Channels): labelled Label, unordered, never
// retransmitted.
func ChannelConfig() rtclink.ChannelConfig {
	none := uint16(0)
	return rtclink.ChannelConfig{Label: Label, Unordered: true, MaxRetransmits: &none}
}

// Command is one command from the page.
type Command struct {
	// Type is TypeDrive or TypeStop.
	Type string `json:"type"`
	// Seq numbers the page's commands from 1.
	Seq uint64 `json:"seq"`
	// T is the page's clock, in milliseconds, when it sent the command.
	T float64 `json:"t"`
	// Linear is the forward speed and Angular the turn to the left, both
	// scaled to [-1, 1]; zero in a stop.
	Linear  float64 `json:"linear"`
	Angular float64 `json:"angular"`
}

// Parse reads one message of the channel. It fails, with an error
// wrapping ErrBadCommand, on anything but a drive or stop command with
// speeds in [-1, 1], or on a message over MaxMessageBytes.
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
	case TypeStop:
		c.Linear, c.Angular = 0, 0
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

// Echo is the robot's answer to c.
func Echo(c Command) []byte {
	b, _ := json.Marshal(struct {
		Type string  `json:"type"`
		Seq  uint64  `json:"seq"`
		T    float64 `json:"t"`
	}{TypeEcho, c.Seq, c.T})
	return b
}

// Sender sends a message on a data channel; an rtclink.Session is one.
type Sender interface {
	SendData(ch rtclink.Channel, data []byte) error
}

// Config configures a [Robot]. The zero value echoes every command and
// does nothing else with it.
type Config struct {
	// OnCommand receives every valid command, on the channel's
	// goroutine, in the order commands arrive. Nil means none.
	OnCommand func(Command)
	// Logger receives invalid messages and failed echoes, at most one a
	// second. Nil means slog.Default().
	Logger *slog.Logger
}

// Robot is the robot's end of the teleop channel. It starts no
// goroutines; its methods are safe for concurrent use.
type Robot struct {
	cfg      Config
	log      *slog.Logger
	mu       sync.Mutex
	out      Sender
	sometime rate.Sometimes
}

// New returns a Robot. An error wraps ErrConfig when cfg cannot work;
// every Config works today.
func New(cfg Config) (*Robot, error) {
	r := &Robot{cfg: cfg, log: cfg.Logger, sometime: rate.Sometimes{Interval: time.Second}}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// Attach makes echoes go out through s, the robot's session. Until it is
// called, commands are handed on but not echoed.
func (r *Robot) Attach(s Sender) {
	r.mu.Lock()
	r.out = s
	r.mu.Unlock()
}

// Handle takes one data-channel message, as rtclink.Config.OnData gets
// it. It reports whether the message was the teleop channel's, so that
// a program can hand other channels' messages elsewhere; a valid command
// goes to Config.OnCommand and is echoed, an invalid one is logged and
// dropped.
func (r *Robot) Handle(ch rtclink.Channel, data []byte) bool {
	if ch != Label {
		return false
	}
	c, err := Parse(data)
	if err != nil {
		r.sometime.Do(func() { r.log.Warn("teleop: message dropped", "err", err) })
		return true
	}
	if r.cfg.OnCommand != nil {
		r.cfg.OnCommand(c)
	}
	r.mu.Lock()
	out := r.out
	r.mu.Unlock()
	if out != nil {
		if err := out.SendData(Label, Echo(c)); err != nil {
			r.sometime.Do(func() { r.log.Warn("teleop: echo not sent", "seq", c.Seq, "err", err) })
		}
	}
	return true
}
