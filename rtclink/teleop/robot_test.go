package teleop

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wireMsg is any message of either channel, as the page reads it.
type wireMsg struct {
	Ch      rtclink.Channel `json:"-"`
	Type    string          `json:"type"`
	Seq     uint64          `json:"seq"`
	T       float64         `json:"t"`
	Why     string          `json:"why"`
	ID      uint64          `json:"id"`
	T0      float64         `json:"t0"`
	Offset  float64         `json:"offset"`
	RTT     float64         `json:"rtt"`
	Err     float64         `json:"err"`
	Latched bool            `json:"latched"`
	You     bool            `json:"you"`
	Driver  string          `json:"driver"`
	Waiting bool            `json:"waiting"`
}

// recorder is a Sender that keeps what the robot sends.
type recorder struct {
	mu    sync.Mutex
	msgs  []wireMsg
	syncs []wireMsg // not yet answered
	err   error
}

func (s *recorder) SendData(ch rtclink.Channel, data []byte) error {
	var m wireMsg
	if err := json.Unmarshal(data, &m); err != nil {
		panic(fmt.Sprintf("the robot sent %q: %v", data, err))
	}
	m.Ch = ch
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	if m.Type == TypeSync {
		s.syncs = append(s.syncs, m)
	}
	return s.err
}

func (s *recorder) takeSyncs() []wireMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.syncs
	s.syncs = nil
	return m
}

// take returns and forgets what was sent.
func (s *recorder) take() []wireMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs
	s.msgs = nil
	return m
}

func ofType(msgs []wireMsg, typ string) []wireMsg {
	var out []wireMsg
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// unit is a Robot on a tickClock with recorded callbacks.
type unit struct {
	*Robot
	clock *tickClock
	out   *recorder
	mu    sync.Mutex
	cmds  []Command
	stops []StopReason
	estop []bool
	off   float64 // the page's clock minus the robot's, ms
}

func newUnit(t *testing.T, cfg Config) *unit {
	t.Helper()
	return newUnitFrom(t, cfg, newTickClock(), New)
}

// newUnitFrom is newUnit with the Robot made by mk on clock.
func newUnitFrom(t *testing.T, cfg Config, clock *tickClock, mk func(Config) (*Robot, error)) *unit {
	t.Helper()
	u := &unit{clock: clock, out: &recorder{}, off: 123456.5}
	cfg.Clock = u.clock
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.OnCommand = func(c Command) { u.mu.Lock(); u.cmds = append(u.cmds, c); u.mu.Unlock() }
	cfg.OnStop = func(w StopReason) { u.mu.Lock(); u.stops = append(u.stops, w); u.mu.Unlock() }
	cfg.OnEStop = func(l bool) { u.mu.Lock(); u.estop = append(u.estop, l); u.mu.Unlock() }
	r, err := mk(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	r.Attach(u.out)
	u.Robot = r
	return u
}

func (u *unit) stopsSoFar() []StopReason {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]StopReason(nil), u.stops...)
}

// pageNow is the page's clock.
func (u *unit) pageNow() float64 { return ms(u.clock.Now()) + u.off }

// answerSyncs answers every sync sent so far at once, as a page on a
// path without delay.
func (u *unit) answerSyncs(t *testing.T) {
	t.Helper()
	for _, m := range u.out.takeSyncs() {
		p := m.T0 + u.off
		u.Handle(Label, []byte(fmt.Sprintf(`{"type":"sync-reply","id":%d,"t0":%v,"t1":%v,"t2":%v}`, m.ID, m.T0, p, p)))
	}
}

// command sends a command stamped age ago on the page's clock and
// returns what the robot answered.
func (u *unit) command(t *testing.T, typ string, seq uint64, age time.Duration, extra string) wireMsg {
	t.Helper()
	ts := u.pageNow() - float64(age)/float64(time.Millisecond)
	u.Handle(Label, []byte(fmt.Sprintf(`{"type":%q,"seq":%d,"t":%v%s}`, typ, seq, ts, extra)))
	var answers []wireMsg
	for _, m := range u.out.take() {
		if m.Type == TypeEcho || m.Type == TypeRefused {
			answers = append(answers, m)
		}
	}
	require.Len(t, answers, 1, "one answer to each command")
	assert.Equal(t, seq, answers[0].Seq)
	assert.Equal(t, ts, answers[0].T)
	return answers[0]
}

func (u *unit) estopMsg(typ string, seq uint64, age time.Duration) wireMsg {
	ts := u.pageNow() - float64(age)/float64(time.Millisecond)
	u.Handle(EStopLabel, []byte(fmt.Sprintf(`{"type":%q,"seq":%d,"t":%v}`, typ, seq, ts)))
	states := ofType(u.out.take(), TypeEStopState)
	if len(states) != 1 {
		panic(fmt.Sprintf("%d estop-states", len(states)))
	}
	return states[0]
}

const drive = `,"linear":0.5,"angular":0.1`

// The gate: unsynced until the first clock sample, then stale beyond
// MaxAge on the page's clock, and out of order at or below the last
// accepted seq.
func TestGate(t *testing.T) {
	u := newUnit(t, Config{MaxAge: 200 * time.Millisecond})
	u.HandleChannel(Label, true)
	syncs := ofType(u.out.take(), TypeSync)
	require.Len(t, syncs, 1, "a sync as the channel opens")
	assert.Equal(t, ms(u.clock.Now()), syncs[0].T0)

	assert.Equal(t, wireMsg{Ch: Label, Type: TypeRefused, Seq: 1, T: u.pageNow(), Why: "unsynced"}, u.command(t, TypeDrive, 1, 0, drive))
	u.answerSyncs(t)
	st := u.Stats()
	require.True(t, st.Synced)
	assert.InDelta(t, dur(u.off), st.Offset, 1000)
	assert.InDelta(t, 0, st.RTT, 1000)
	assert.Equal(t, uint64(1), st.Samples)

	assert.Equal(t, "echo", u.command(t, TypeDrive, 2, 199*time.Millisecond, drive).Type)
	assert.Equal(t, "stale", u.command(t, TypeDrive, 3, 201*time.Millisecond, drive).Why)
	assert.Equal(t, "order", u.command(t, TypeDrive, 2, 0, drive).Why, "a duplicate")
	assert.Equal(t, "echo", u.command(t, TypeStop, 5, 0, "").Type)
	assert.Equal(t, "order", u.command(t, TypeDrive, 4, 0, drive).Why, "overtaken")
	assert.Equal(t, "echo", u.command(t, TypeAction, 6, 0, `,"name":"dock"`).Type)
	assert.Equal(t, "echo", u.command(t, TypeCustom, 7, 0, `,"data":{"arm":[1,2]}`).Type)
	assert.Equal(t, "echo", u.command(t, TypeDrive, 8, -100*time.Millisecond, drive).Type, "sent after the estimate says now: clocks drift")

	u.mu.Lock()
	var got []string
	for _, c := range u.cmds {
		got = append(got, fmt.Sprintf("%s#%d", c.Type, c.Seq))
	}
	u.mu.Unlock()
	assert.Equal(t, []string{"drive#2", "stop#5", "action#6", "custom#7", "drive#8"}, got, "only what passed the gate reached the program")
	st = u.Stats()
	assert.Equal(t, uint64(5), st.Accepted)
	assert.Equal(t, RefusedCounts{Stale: 1, Order: 2, Unsynced: 1}, st.Refused)

	// A new channel is a new page: its seq starts again, its clock is
	// measured again.
	u.HandleChannel(Label, false)
	u.HandleChannel(Label, true)
	assert.Equal(t, "unsynced", u.command(t, TypeDrive, 1, 0, drive).Why)
	u.answerSyncs(t)
	assert.Equal(t, "echo", u.command(t, TypeDrive, 1, 0, drive).Type)
}

// Sync replies that do not answer a sync of this page are ignored.
func TestSyncReplies(t *testing.T) {
	u := newUnit(t, Config{})
	u.HandleChannel(Label, true)
	sync := ofType(u.out.take(), TypeSync)[0]
	for _, bad := range []string{
		`{"type":"sync-reply","id":99,"t0":%v,"t1":1,"t2":1}`,      // no such sync
		`{"type":"sync-reply","id":1,"t0":%v1,"t1":1,"t2":1}`,      // another t0
		`{"type":"sync-reply","id":1,"t0":%v,"t1":5,"t2":4}`,       // answered before received
		`{"type":"sync-reply","id":1,"t0":%v,"t1":"x","t2":4}`,     // not a number
		`{"type":"sync-reply","id":1,"t0":%v,"t1":0,"t2":9e15}`,    // a turnaround longer than the round trip
		`{"type":"sync-reply","id":1,"t0":%v,"t1":0,"t2":0}` + `x`, // not JSON
	} {
		u.Handle(Label, []byte(fmt.Sprintf(bad, sync.T0)))
	}
	assert.False(t, u.Stats().Synced)
	u.clock.advance(t, 10*time.Millisecond, 10*time.Millisecond)
	u.Handle(Label, []byte(fmt.Sprintf(`{"type":"sync-reply","id":1,"t0":%v,"t1":%v,"t2":%v}`, sync.T0, sync.T0+5004, sync.T0+5006)))
	st := u.Stats()
	require.True(t, st.Synced)
	assert.InDelta(t, 8*time.Millisecond, st.RTT, 1000)
	assert.InDelta(t, 4*time.Millisecond, st.Uncertainty, 1000)
	assert.InDelta(t, dur(5000), st.Offset, 1000)
	clock := ofType(u.out.take(), TypeClock)
	require.Len(t, clock, 1)
	assert.InDelta(t, 5000, clock[0].Offset, 1e-3)
	assert.InDelta(t, 8, clock[0].RTT, 1e-3)
	assert.InDelta(t, 4, clock[0].Err, 1e-3)
	u.Handle(Label, []byte(fmt.Sprintf(`{"type":"sync-reply","id":1,"t0":%v,"t1":%v,"t2":%v}`, sync.T0, sync.T0+1, sync.T0+1)))
	assert.Equal(t, uint64(1), u.Stats().Samples, "a sync is answered once")
}

// The sync schedule: one at the opening, a burst of four 50 ms apart,
// then one every SyncInterval.
func TestSyncSchedule(t *testing.T) {
	u := newUnit(t, Config{SyncInterval: 400 * time.Millisecond})
	start := u.clock.Now()
	u.HandleChannel(Label, true)
	u.clock.advance(t, 1250*time.Millisecond, 10*time.Millisecond)
	var at []time.Duration
	for _, m := range ofType(u.out.take(), TypeSync) {
		at = append(at, dur(m.T0-ms(start)).Round(time.Millisecond))
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{0, 50 * ms, 100 * ms, 150 * ms, 200 * ms, 250 * ms, 650 * ms, 1050 * ms}, at)
	u.HandleChannel(Label, false)
	u.clock.advance(t, time.Second, 20*time.Millisecond)
	assert.Empty(t, ofType(u.out.take(), TypeSync), "no syncs without a channel")
}

// The deadman stops a driving robot once, Deadman after its last valid
// command (plus at most one check), and never while commands come.
func TestDeadmanUnit(t *testing.T) {
	u := newUnit(t, Config{})
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	seq := uint64(0)
	next := func(extra string) string {
		seq++
		return u.command(t, TypeDrive, seq, 0, extra).Type
	}
	for i := 0; i < 20; i++ { // 2 s at 10 Hz
		require.Equal(t, "echo", next(drive))
		u.clock.advance(t, 100*time.Millisecond, 20*time.Millisecond)
	}
	assert.Empty(t, u.stopsSoFar(), "a stop while commands came")
	assert.True(t, u.Stats().Driving)

	// Stale commands do not feed the deadman.
	u.clock.advance(t, 160*time.Millisecond, 20*time.Millisecond) // 260 ms since the last
	seq++
	require.Equal(t, "stale", u.command(t, TypeDrive, seq, 300*time.Millisecond, drive).Why)
	u.clock.advance(t, 20*time.Millisecond, 20*time.Millisecond)
	assert.Empty(t, u.stopsSoFar(), "stopped before the deadman time")
	u.out.take()
	u.clock.advance(t, 20*time.Millisecond, 20*time.Millisecond)
	assert.Equal(t, []StopReason{StopDeadman}, u.stopsSoFar())
	assert.Equal(t, []wireMsg{{Ch: Label, Type: TypeStopped, Why: "deadman"}}, ofType(u.out.take(), TypeStopped))
	u.clock.advance(t, time.Second, 20*time.Millisecond)
	u.HandleState(rtclink.StateDisconnected)
	u.HandleChannel(Label, false)
	assert.Len(t, u.stopsSoFar(), 1, "one stop per driving episode")

	// A zero-speed drive or a stop ends the episode: nothing to stop.
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	seq = 0
	require.Equal(t, "echo", next(drive))
	require.Equal(t, "echo", next(`,"linear":0,"angular":0`))
	u.clock.advance(t, time.Second, 20*time.Millisecond)
	assert.Len(t, u.stopsSoFar(), 1)
	assert.False(t, u.Stats().Driving)

	// The connection and the channel stop a driving robot at once.
	require.Equal(t, "echo", next(drive))
	u.HandleState(rtclink.StateConnected)
	u.HandleState(rtclink.StateFailed)
	u.HandleState(rtclink.StateClosed)
	assert.Equal(t, []wireMsg{{Ch: Label, Type: TypeStopped, Why: "link"}}, ofType(u.out.take(), TypeStopped))
	require.Equal(t, "echo", next(drive))
	u.HandleChannel(EStopLabel, false)
	u.HandleChannel(Label, false)
	assert.Equal(t, []StopReason{StopDeadman, StopLink, StopChannel}, u.stopsSoFar())
	assert.Equal(t, StopCounts{Deadman: 1, Link: 1, Channel: 1}, u.Stats().Stops)
	assert.Equal(t, []wireMsg{{Ch: Label, Type: TypeStopped, Why: "channel"}}, ofType(u.out.take(), TypeStopped))
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	seq = 0
	require.Equal(t, "echo", next(drive))
	u.HandleChannel(Label, false)
	assert.Empty(t, ofType(u.out.take(), TypeStopped), "no stopped on a channel that is gone")
}

// Once the page's E-stop channel has closed, a command still coming on its
// teleop channel does not drive the robot again: the page is leaving, or
// can no longer stop it. A stop still runs; a new teleop channel drives.
func TestNoDriveAfterEStopChannelCloses(t *testing.T) {
	u := newUnit(t, Config{})
	u.HandleChannel(Label, true)
	u.HandleChannel(EStopLabel, true)
	u.answerSyncs(t)
	require.Equal(t, "echo", u.command(t, TypeDrive, 1, 0, drive).Type)
	u.HandleChannel(EStopLabel, false)
	assert.Equal(t, []StopReason{StopChannel}, u.stopsSoFar())

	assert.Equal(t, "channel", u.command(t, TypeDrive, 2, 0, drive).Why, "a drive sent before the page left")
	assert.False(t, u.Stats().Driving)
	assert.Equal(t, "echo", u.command(t, TypeStop, 3, 0, "").Type)
	u.HandleChannel(Label, false)
	assert.Equal(t, []StopReason{StopChannel}, u.stopsSoFar(), "one stop for the page leaving")
	assert.Equal(t, RefusedCounts{Channel: 1}, u.Stats().Refused)

	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	assert.Equal(t, "echo", u.command(t, TypeDrive, 1, 0, drive).Type, "a new page drives")
}

// Without OnStop, the program's OnCommand gets a stop.
func TestStopWithoutOnStop(t *testing.T) {
	u := newUnit(t, Config{})
	u.cfg.OnStop = nil
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	u.command(t, TypeDrive, 1, 0, drive)
	u.clock.advance(t, 400*time.Millisecond, 20*time.Millisecond)
	u.mu.Lock()
	defer u.mu.Unlock()
	require.Len(t, u.cmds, 2)
	assert.Equal(t, Command{Type: TypeStop}, u.cmds[1])
}

// The E-stop latches at once, whatever its age, and refuses drives;
// only a fresh release unlatches it.
func TestEStopUnit(t *testing.T) {
	u := newUnit(t, Config{})
	u.HandleChannel(EStopLabel, true)
	assert.Equal(t, []wireMsg{{Ch: EStopLabel, Type: TypeEStopState}}, u.out.take(), "the state when the channel opens")
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	u.command(t, TypeDrive, 1, 0, drive)

	assert.Equal(t, wireMsg{Ch: EStopLabel, Type: TypeEStopState, Latched: true, Seq: 7}, u.estopMsg(TypeEStop, 7, time.Hour))
	assert.Equal(t, []StopReason{StopEStop}, u.stopsSoFar())
	assert.Equal(t, []bool{true}, u.estop)
	assert.Equal(t, "estop", u.command(t, TypeDrive, 2, 0, drive).Why)
	assert.Equal(t, "echo", u.command(t, TypeStop, 3, 0, "").Type, "a stop is always welcome")
	assert.True(t, u.estopMsg(TypeEStop, 8, 0).Latched)
	assert.Len(t, u.stopsSoFar(), 2, "every E-stop stops")
	assert.Equal(t, []bool{true, true}, u.estop)

	assert.True(t, u.estopMsg(TypeRelease, 9, time.Second).Latched, "a stale release")
	assert.True(t, u.estopMsg(TypeRelease, 9, 0).Latched, "a release seen before")
	assert.True(t, u.estopMsg(TypeRelease, 5, 0).Latched, "an old release")
	assert.Equal(t, []bool{true, true}, u.estop)
	assert.False(t, u.estopMsg(TypeRelease, 10, 0).Latched, "a fresh release")
	assert.Equal(t, []bool{true, true, false}, u.estop)
	assert.Equal(t, "echo", u.command(t, TypeDrive, 4, 0, drive).Type)
	assert.False(t, u.estopMsg(TypeRelease, 11, 0).Latched)

	// A new page sees the latch; without a clock, nothing releases it.
	u.estopMsg(TypeEStop, 12, 0)
	u.HandleChannel(Label, false)
	u.HandleChannel(EStopLabel, false)
	u.HandleChannel(EStopLabel, true)
	assert.Equal(t, []wireMsg{{Ch: EStopLabel, Type: TypeEStopState, Latched: true}}, u.out.take())
	assert.True(t, u.estopMsg(TypeRelease, 1, 0).Latched, "released on an unsynced clock")
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	assert.False(t, u.estopMsg(TypeRelease, 2, 0).Latched)
	assert.Equal(t, StopCounts{EStop: 3}, u.Stats().Stops)
	assert.Equal(t, RefusedCounts{EStop: 1}, u.Stats().Refused)
}

// Bad messages are counted, logged and dropped; nothing stops and the
// next command runs.
func TestBadMessages(t *testing.T) {
	var logs strings.Builder
	u := newUnit(t, Config{})
	u.log = slog.New(slog.NewTextHandler(&logs, nil))
	u.HandleChannel(Label, true)
	u.answerSyncs(t)
	u.command(t, TypeDrive, 1, 0, drive)
	for _, bad := range []string{``, `{`, `[]`, `{"type":"fly"}`, `{"type":"drive","linear":2}`, `{"type":"echo","seq":9}`,
		`{"type":"action","seq":2,"name":""}`, `{"type":"custom","seq":2}`, `{"type":"sync-reply","id":"x"}`} {
		u.Handle(Label, []byte(bad))
	}
	for _, bad := range []string{`{"type":"drive"}`, `{"type":"estop","seq":"1"}`, `nonsense`} {
		u.Handle(EStopLabel, []byte(bad))
	}
	assert.Empty(t, u.out.take(), "no answer to a bad message")
	assert.Equal(t, uint64(12), u.Stats().Invalid)
	assert.False(t, u.Stats().Latched, "a bad message on the E-stop channel latches nothing")
	assert.Contains(t, logs.String(), "message dropped")
	assert.Equal(t, "echo", u.command(t, TypeDrive, 2, 0, drive).Type)
	assert.Empty(t, u.stopsSoFar())
}

// A program that does not pass channel events on: the first message
// opens the page session, and a reloaded page (seq from 1 again, a later
// clock) is a new one.
func TestUnwired(t *testing.T) {
	u := newUnit(t, Config{})
	assert.Equal(t, "unsynced", u.command(t, TypeDrive, 1, 0, drive).Why)
	// (command took the sync along with the answer: send another.)
	u.clock.advance(t, 60*time.Millisecond, 20*time.Millisecond)
	u.answerSyncs(t)
	require.True(t, u.Stats().Synced)
	assert.Equal(t, "echo", u.command(t, TypeDrive, 2, 0, drive).Type)
	assert.Equal(t, "echo", u.command(t, TypeDrive, 3, 0, drive).Type)
	u.clock.advance(t, 20*time.Millisecond, 20*time.Millisecond)
	u.out.take()
	assert.Equal(t, "order", u.command(t, TypeDrive, 3, 20*time.Millisecond, drive).Why, "a duplicate, with its t")
	assert.Equal(t, "echo", u.command(t, TypeDrive, 1, 0, drive).Type, "a reloaded page")
	assert.Equal(t, "order", u.command(t, TypeDrive, 1, 0, drive).Why)
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{MaxAge: -1}, {Deadman: -time.Second}, {Deadman: 10 * time.Millisecond, CheckInterval: 20 * time.Millisecond}} {
		_, err := New(c)
		assert.ErrorIs(t, err, ErrConfig, "%+v", c)
	}
	r, err := New(Config{Deadman: 5 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Millisecond, r.cfg.CheckInterval, "the default check is no longer than the deadman")
	require.NoError(t, r.Close())
}

// Close stops the goroutine; so does the end of the attached session.
func TestCloseAndSessionEnd(t *testing.T) {
	r, err := New(Config{})
	require.NoError(t, err)
	s := &endingSender{done: make(chan struct{})}
	r.Attach(s)
	r.HandleChannel(Label, true)
	close(s.done)
	require.Eventually(t, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return !r.running }, 5*time.Second, 5*time.Millisecond)
	r.HandleChannel(Label, true)
	require.NoError(t, r.Close())
	r.Handle(Label, []byte(`{"type":"stop","seq":9,"t":1}`))
	assert.Zero(t, r.Stats().Accepted+r.Stats().Refused.Unsynced, "dropped after Close")
}

type endingSender struct {
	recorder
	done chan struct{}
}

func (s *endingSender) Done() <-chan struct{} { return s.done }
