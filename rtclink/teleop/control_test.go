package teleop

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// viewers are the Robots of one Control, on one clock, each with its
// teleop and E-stop channels open and its clock synced.
type viewers struct {
	ctl   *Control
	clock *tickClock
	mu    sync.Mutex
	hands []string // OnControl's calls
}

func newViewers(t *testing.T, cfg ControlConfig) *viewers {
	t.Helper()
	v := &viewers{clock: newTickClock()}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.OnControl = func(id string) { v.mu.Lock(); v.hands = append(v.hands, id); v.mu.Unlock() }
	ctl, err := NewControl(cfg)
	require.NoError(t, err)
	v.ctl = ctl
	return v
}

func (v *viewers) join(t *testing.T, id string) *unit {
	t.Helper()
	u := newUnitFrom(t, Config{}, v.clock, func(cfg Config) (*Robot, error) { return v.ctl.Robot(id, cfg) })
	u.HandleChannel(EStopLabel, true)
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	return u
}

func (v *viewers) handsSoFar() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.hands...)
}

// lastControl is the last control message u's page got since the last
// take.
func lastControl(t *testing.T, u *unit) wireMsg {
	t.Helper()
	msgs := ofType(u.out.take(), TypeControl)
	require.NotEmpty(t, msgs, "a control message")
	return msgs[len(msgs)-1]
}

func (u *unit) send(typ string) {
	u.Handle(Label, []byte(`{"type":"`+typ+`"}`))
}

func (u *unit) commands() []Command {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Command(nil), u.cmds...)
}

// The first viewer drives; the others' commands, stops included, are
// refused "observer"; a request waits while the driver moves and gets
// control when the driver lets go; a driver who never moved gives way
// at once.
func TestControlHands(t *testing.T) {
	v := newViewers(t, ControlConfig{})
	a := v.join(t, "a")
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeControl, You: true, Driver: "a"}, lastControl(t, a))
	b := v.join(t, "b")
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeControl, Driver: "a"}, lastControl(t, b))
	assert.Equal(t, "a", v.ctl.Holder())

	assert.Equal(t, TypeEcho, a.command(t, TypeDrive, 1, 0, drive).Type)
	assert.Equal(t, "observer", b.command(t, TypeDrive, 1, 0, drive).Why)
	assert.Equal(t, "observer", b.command(t, TypeStop, 2, 0, "").Why, "an observer's stop would stop the driver")
	assert.Empty(t, b.commands())
	assert.Len(t, a.commands(), 1)
	assert.Equal(t, RefusedCounts{Observer: 2}, b.Stats().Refused)

	b.send(TypeControlRequest)
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeControl, Driver: "a", Waiting: true, Why: "busy"}, lastControl(t, b))
	assert.Equal(t, "a", v.ctl.Holder(), "refused while the driver moves")

	// Still refused a second after the driver stopped: the default idle
	// is 2 s.
	assert.Equal(t, TypeEcho, a.command(t, TypeStop, 2, 0, "").Type)
	v.clock.advance(t, time.Second, 100*time.Millisecond)
	b.answerSyncs(t)
	a.answerSyncs(t)
	b.send(TypeControlRequest)
	assert.Equal(t, "busy", lastControl(t, b).Why)

	// The driver lets go: the waiting viewer drives.
	a.send(TypeControlRelease)
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeControl, You: true, Driver: "b"}, lastControl(t, b))
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeControl, Driver: "b"}, lastControl(t, a))
	assert.Equal(t, "observer", a.command(t, TypeDrive, 3, 0, drive).Why)
	assert.Equal(t, TypeEcho, b.command(t, TypeDrive, 3, 0, drive).Type)
	assert.Equal(t, TypeEcho, b.command(t, TypeStop, 4, 0, "").Type)

	// b has not moved for 2 s: a's request is granted at once.
	v.clock.advance(t, 2*time.Second, 100*time.Millisecond)
	a.answerSyncs(t)
	b.answerSyncs(t)
	a.send(TypeControlRequest)
	assert.True(t, lastControl(t, a).You)
	assert.Equal(t, []string{"a", "b", "a"}, v.handsSoFar())
	assert.Empty(t, a.stopsSoFar())
	assert.Empty(t, b.stopsSoFar(), "nobody moved when control changed hands")
}

// A Grant that gives control to whoever asks stops a moving driver first.
func TestControlTakenWhileMoving(t *testing.T) {
	v := newViewers(t, ControlConfig{Grant: func(string, string, time.Duration) bool { return true }})
	a := v.join(t, "a")
	b := v.join(t, "b")
	a.command(t, TypeDrive, 1, 0, drive)
	b.send(TypeControlRequest)
	assert.Equal(t, "b", v.ctl.Holder())
	assert.Equal(t, []StopReason{StopControl}, a.stopsSoFar())
	assert.Equal(t, StopCounts{Control: 1}, a.Stats().Stops)
	assert.False(t, a.Stats().Driving)
}

// Any viewer's E-stop stops the robot and latches it for all; only the
// viewer who latched it releases it, or the driver once it has left.
func TestControlEStop(t *testing.T) {
	v := newViewers(t, ControlConfig{})
	a := v.join(t, "a")
	b := v.join(t, "b")
	a.command(t, TypeDrive, 1, 0, drive)
	a.out.take()
	b.out.take()

	assert.True(t, b.estopMsg(TypeEStop, 5, 0).Latched, "an observer's E-stop")
	assert.Equal(t, []StopReason{StopEStop}, b.stopsSoFar())
	assert.Equal(t, []wireMsg{{Ch: EStopLabel, Type: TypeEStopState, Latched: true}}, a.out.take(), "the driver's page hears of the latch")
	assert.True(t, a.Stats().Latched)
	assert.False(t, a.Stats().Driving, "the driver's motion is gone with the E-stop")
	assert.Equal(t, "estop", a.command(t, TypeDrive, 2, 0, drive).Why)

	// The driver cannot release an observer's latch; the observer can.
	assert.True(t, a.estopMsg(TypeRelease, 3, 0).Latched)
	b.out.take()
	assert.False(t, b.estopMsg(TypeRelease, 6, 0).Latched)
	assert.Equal(t, []wireMsg{{Ch: EStopLabel, Type: TypeEStopState}}, a.out.take())
	assert.Equal(t, TypeEcho, a.command(t, TypeDrive, 4, 0, drive).Type)

	// The observer latches and leaves: the driver releases.
	assert.True(t, b.estopMsg(TypeEStop, 7, 0).Latched)
	v.ctl.Leave("b")
	a.out.take()
	assert.False(t, a.estopMsg(TypeRelease, 8, 0).Latched)

	// Nothing moved after any E-stop.
	cmds := a.commands()
	require.Len(t, cmds, 2)
	assert.Equal(t, uint64(4), cmds[1].Seq)
	assert.Empty(t, a.stopsSoFar(), "the deadman did not stop the stopped robot again")
}

// The driver leaving while moving stops the robot once and frees
// control for the waiting viewer, or for the next to come.
func TestControlDriverLeaves(t *testing.T) {
	v := newViewers(t, ControlConfig{})
	a := v.join(t, "a")
	b := v.join(t, "b")
	c := v.join(t, "c")
	a.command(t, TypeDrive, 1, 0, drive)
	c.send(TypeControlRequest)
	b.send(TypeControlRequest)
	v.ctl.Leave("a")
	assert.Equal(t, []StopReason{StopLink}, a.stopsSoFar())
	assert.Equal(t, "c", v.ctl.Holder(), "the longest-waiting viewer")
	assert.True(t, lastControl(t, c).You)
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeControl, Driver: "c", Waiting: true}, lastControl(t, b))

	v.ctl.Leave("c")
	assert.Equal(t, "b", v.ctl.Holder())
	v.ctl.Leave("b")
	assert.Equal(t, "", v.ctl.Holder())
	d := v.join(t, "d")
	assert.True(t, lastControl(t, d).You, "the next to come drives")
	assert.Equal(t, []string{"a", "c", "b", "", "d"}, v.handsSoFar())
}

func TestControlConfig(t *testing.T) {
	_, err := NewControl(ControlConfig{Idle: -time.Second})
	assert.ErrorIs(t, err, ErrConfig)
	ctl, err := NewControl(ControlConfig{})
	require.NoError(t, err)
	_, err = ctl.Robot("", Config{})
	assert.ErrorIs(t, err, ErrConfig)
}
