package teleop

import (
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slack is what a loaded machine may add to a deadline on top of the
// deadman's own bound (Deadman + CheckInterval). These tests run real
// sessions, over loopback or a vnet router, next to other test binaries
// on a shared CI machine: the Robot's goroutine, the SCTP and vnet
// goroutines that carry the last command and the test's own polling can
// each be descheduled for a few hundred milliseconds. The exact bound
// is asserted on a fake clock (TestDeadmanUnit); here a stop later than
// this means the deadman did not do its job, not that the machine was
// busy.
const slack = 700 * time.Millisecond

// stopBound is how soon a stop must follow the event that causes it
// (the page's channel closing, the connection declared lost) on a real
// session: at once in the code, so this only leaves room for a loaded
// machine, and a stop that never comes, or comes only with some later
// timeout, fails.
const stopBound = 2 * time.Second

// The clock estimate over loopback finds a page clock 12.3 s ahead to
// within 2 ms, and always within its own uncertainty; the page hears it.
// (Syncs come every 100 ms so that a loaded machine soon has a sample
// with a round trip under 4 ms.)
func TestClockOffsetLoopback(t *testing.T) {
	const off = 12345.678
	l := connect(t, Config{SyncInterval: 100 * time.Millisecond}, off, nil)
	var st Stats
	require.Eventually(t, func() bool {
		st = l.robot.Stats()
		assert.InDelta(t, off, float64(st.Offset)/1e6, float64(st.Uncertainty)/1e6+0.1, "offset %v ± %v", st.Offset, st.Uncertainty)
		return st.Samples >= filterSize && st.Uncertainty < 2*time.Millisecond
	}, 20*time.Second, 10*time.Millisecond, "no sample with a round trip under 4 ms")
	assert.True(t, st.Synced)
	assert.InDelta(t, off, float64(st.Offset)/1e6, 2, "offset %v", st.Offset)
	assert.Equal(t, st.RTT/2, st.Uncertainty)
	m := l.page.wait(t, 5*time.Second, "clock", func(m wireMsg) bool { return m.Type == TypeClock })
	assert.InDelta(t, off, m.Offset, m.Err+0.1)
	assert.InDelta(t, m.RTT/2, m.Err, 1e-9)
}

// Commands held back by the page beyond the age gate are refused stale
// and never reach the program; fresh ones run.
func TestStaleHeldBack(t *testing.T) {
	l := connect(t, Config{MaxAge: 200 * time.Millisecond}, -98765.4, nil)
	seq := l.page.send(TypeDrive, 400*time.Millisecond, drive)
	m := l.page.answer(t, seq)
	assert.Equal(t, wireMsg{Ch: Label, Type: TypeRefused, Seq: seq, T: m.T, Why: "stale"}, m)
	seq = l.page.send(TypeDrive, 0, drive)
	assert.Equal(t, TypeEcho, l.page.answer(t, seq).Type)
	st := l.robot.Stats()
	assert.Equal(t, uint64(1), st.Refused.Stale)
	assert.Equal(t, uint64(1), st.Accepted)
	l.robot.mu.Lock()
	assert.Equal(t, 1, l.robot.cmds)
	l.robot.mu.Unlock()
}

// On a path with 120 ms each way, commands are 120 ms old when they
// arrive: a 60 ms gate refuses them all, a 600 ms one (room for a loaded
// machine) takes them. The clock estimate is within its uncertainty of
// the page's true offset.
func TestStaleDelayed(t *testing.T) {
	if testing.Short() {
		t.Skip("a delayed path")
	}
	for _, tc := range []struct {
		maxAge time.Duration
		want   string
	}{{60 * time.Millisecond, TypeRefused}, {600 * time.Millisecond, TypeEcho}} {
		t.Run(tc.maxAge.String(), func(t *testing.T) {
			l := connect(t, Config{MaxAge: tc.maxAge}, 5000, newVnet(t, 120*time.Millisecond))
			// The burst of syncs, for a sample little disturbed.
			var st Stats
			require.Eventually(t, func() bool { st = l.robot.Stats(); return st.Samples >= 6 }, 5*time.Second, 10*time.Millisecond)
			assert.GreaterOrEqual(t, st.RTT, 235*time.Millisecond)
			assert.InDelta(t, 5000, float64(st.Offset)/1e6, float64(st.Uncertainty)/1e6, "offset %v ± %v", st.Offset, st.Uncertainty)
			for i := 0; i < 5; i++ {
				m := l.page.answer(t, l.page.send(TypeDrive, 0, drive))
				assert.Equal(t, tc.want, m.Type, "%+v; robot %+v", m, l.robot.Stats())
				if m.Type == TypeRefused {
					assert.Equal(t, "stale", m.Why)
				}
			}
		})
	}
}

// Duplicates and commands overtaken by a newer one are refused.
func TestOrder(t *testing.T) {
	l := connect(t, Config{}, 0, nil)
	p := l.page
	now := p.now()
	for _, c := range []struct {
		seq  uint64
		t    float64
		want string
	}{{5, now, TypeEcho}, {5, now, "order"}, {3, now - 1, "order"}, {6, now + 1, TypeEcho}, {6, now + 1, "order"}} {
		p.sendSeq(TypeDrive, c.seq, c.t, drive)
		m := p.answer(t, c.seq)
		if c.want == TypeEcho {
			assert.Equal(t, TypeEcho, m.Type, "#%d", c.seq)
		} else {
			assert.Equal(t, c.want, m.Why, "#%d", c.seq)
		}
	}
	assert.Equal(t, uint64(3), l.robot.Stats().Refused.Order)
}

// Commands at 10 Hz for 2 s never stop the robot; when they cease it
// stops once, Deadman (plus a check) after the last, and tells the page.
func TestDeadmanWhenCommandsStop(t *testing.T) {
	l := connect(t, Config{}, 777, nil)
	l.driveFor(2*time.Second, 100*time.Millisecond)
	stops, _, _ := l.robot.stopsSoFar()
	assert.Empty(t, stops, "stopped while commands came")
	m := l.page.wait(t, 3*time.Second, "stopped", func(m wireMsg) bool { return m.Type == TypeStopped })
	assert.Equal(t, "deadman", m.Why)
	time.Sleep(time.Second)
	stops, at, last := l.robot.stopsSoFar()
	require.Equal(t, []StopReason{StopDeadman}, stops, "one stop")
	d := at[0].Sub(last)
	t.Logf("stop %v after the last command", d)
	assert.GreaterOrEqual(t, d, DefaultDeadman-5*time.Millisecond)
	assert.Less(t, d, DefaultDeadman+DefaultCheckInterval+slack)
	assert.Equal(t, StopCounts{Deadman: 1}, l.robot.Stats().Stops)

	// A fresh command drives again, and the next silence stops again.
	l.driveFor(300*time.Millisecond, 100*time.Millisecond)
	require.Eventually(t, func() bool { s, _, _ := l.robot.stopsSoFar(); return len(s) == 2 }, 3*time.Second, 10*time.Millisecond)
}

// A cut path stops the robot by the deadman, once, long before the
// connection is declared lost; the loss that follows stops nothing more.
func TestDeadmanWhenLinkCut(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the ICE timeout")
	}
	n := newVnet(t, 0)
	l := connect(t, Config{}, 0, n)
	l.driveFor(time.Second, 100*time.Millisecond)
	n.cut.Store(true)
	cut := time.Now()
	go l.driveFor(500*time.Millisecond, 100*time.Millisecond) // into the void
	require.Eventually(t, func() bool { s, _, _ := l.robot.stopsSoFar(); return len(s) > 0 }, 3*time.Second, 5*time.Millisecond)
	stops, at, last := l.robot.stopsSoFar()
	t.Logf("stop %v after the cut, %v after the last command", at[0].Sub(cut), at[0].Sub(last))
	assert.Less(t, at[0].Sub(cut), DefaultDeadman+DefaultCheckInterval+slack)
	assert.Equal(t, []StopReason{StopDeadman}, stops)
	waitState(t, l.robot, rtclink.StateDisconnected, 15*time.Second)
	time.Sleep(100 * time.Millisecond)
	stops, _, _ = l.robot.stopsSoFar()
	assert.Equal(t, []StopReason{StopDeadman}, stops, "the connection loss stopped a stopped robot")
}

// With a long deadman, the connection loss is what stops the robot,
// within stopBound of the session declaring it.
func TestStopWhenLinkLost(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the ICE timeout")
	}
	n := newVnet(t, 0)
	l := connect(t, Config{Deadman: time.Minute}, 0, n)
	l.driveFor(300*time.Millisecond, 100*time.Millisecond)
	n.cut.Store(true)
	cut := time.Now()
	waitState(t, l.robot, rtclink.StateDisconnected, 15*time.Second)
	lost := time.Now()
	require.Eventually(t, func() bool { s, _, _ := l.robot.stopsSoFar(); return len(s) > 0 }, stopBound, 5*time.Millisecond,
		"no stop within %v of the connection's loss", stopBound)
	stops, at, _ := l.robot.stopsSoFar()
	t.Logf("stopped %v after the cut, %v after the test saw the loss", at[0].Sub(cut), at[0].Sub(lost))
	assert.Equal(t, []StopReason{StopLink}, stops)
}

func waitState(t *testing.T, r *testRobot, want rtclink.State, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case st := <-r.states:
			if st == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %v within %v", want, d)
		}
	}
}

// The page leaving (its session closes, and with it the channels) stops
// a driving robot at once (within stopBound), well before a long
// deadman would: by the connection's end or the channel's, whichever
// comes first, and by the channel's alone for a program that does not
// pass on the states.
func TestStopWhenPageLeaves(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*rtclink.Config)
		want   []StopReason
	}{
		"all events":    {func(*rtclink.Config) {}, []StopReason{StopChannel, StopLink}},
		"channels only": {func(c *rtclink.Config) { c.OnState = nil }, []StopReason{StopChannel}},
	} {
		t.Run(name, func(t *testing.T) {
			l := connect(t, Config{Deadman: time.Minute}, 0, nil, tc.mutate)
			l.driveFor(300*time.Millisecond, 100*time.Millisecond)
			require.Eventually(t, func() bool { return l.robot.Stats().Driving }, 2*time.Second, 5*time.Millisecond)
			closed := time.Now()
			l.page.s.Close()
			require.Eventually(t, func() bool { s, _, _ := l.robot.stopsSoFar(); return len(s) > 0 }, stopBound, 5*time.Millisecond,
				"no stop within %v of the page leaving", stopBound)
			time.Sleep(500 * time.Millisecond)
			stops, at, _ := l.robot.stopsSoFar()
			t.Logf("stopped (%s) %v after the page closed", stops[0], at[0].Sub(closed))
			require.Len(t, stops, 1, "one stop")
			assert.Contains(t, tc.want, stops[0])
		})
	}
}

// An E-stop gets through while the teleop channel is flooded with
// commands, latches, refuses drives, and only a fresh release unlatches.
func TestEStopUnderLoad(t *testing.T) {
	l := connect(t, Config{}, -4242, nil)
	p := l.page
	m := p.wait(t, 5*time.Second, "estop-state", func(m wireMsg) bool { return m.Type == TypeEStopState })
	assert.False(t, m.Latched, "the state when the channel opened")

	// The flood: 1 kB commands as fast as they are answered, with 128
	// always on the way (as a page that watches its channel's buffered
	// amount), so that the channel always has a queue.
	stop := make(chan struct{})
	flooded := make(chan int)
	var inFlight atomic.Int64
	big := `,"data":"` + strings.Repeat("x", 900) + `"`
	go func() {
		n := 0
		progress, seen := time.Now(), int64(0)
		for {
			select {
			case <-stop:
				flooded <- n
				return
			default:
			}
			answered := p.answered.Load()
			if answered != seen {
				progress, seen = time.Now(), answered
			}
			if int64(n)-answered >= 128 && time.Since(progress) < 50*time.Millisecond {
				time.Sleep(100 * time.Microsecond)
				continue
			}
			p.send(TypeCustom, 0, big)
			n++
			inFlight.Store(int64(n) - answered)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	queued := inFlight.Load()
	require.NoError(t, p.estop(TypeEStop, 1, 0))
	select {
	case latched := <-l.robot.estop:
		assert.True(t, latched)
	case <-time.After(time.Second):
		t.Fatal("no E-stop within 1 s under load")
	}
	t.Logf("E-stop reached the program in %v", time.Since(sent))
	m = p.wait(t, 5*time.Second, "estop-state", func(m wireMsg) bool { return m.Type == TypeEStopState })
	assert.Equal(t, wireMsg{Ch: EStopLabel, Type: TypeEStopState, Latched: true, Seq: 1}, m)
	close(stop)
	t.Logf("%d commands of 1 kB sent in the flood", <-flooded)
	t.Logf("%d commands on the way when the E-stop was sent", queued)
	assert.Greater(t, queued, int64(64), "no queue on the teleop channel")
	stops, _, _ := l.robot.stopsSoFar()
	assert.Equal(t, []StopReason{StopEStop}, stops)

	// The flood's backlog comes first, stale by now.
	var why string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if why = p.answer(t, p.send(TypeDrive, 0, drive)).Why; why != "stale" {
			break
		}
	}
	assert.Equal(t, "estop", why)

	require.NoError(t, p.estop(TypeRelease, 2, time.Second))
	assert.True(t, p.wait(t, 5*time.Second, "estop-state", func(m wireMsg) bool { return m.Type == TypeEStopState }).Latched, "a stale release")
	require.NoError(t, p.estop(TypeRelease, 2, 0))
	assert.True(t, p.wait(t, 5*time.Second, "estop-state", func(m wireMsg) bool { return m.Type == TypeEStopState }).Latched, "a repeated seq")
	require.NoError(t, p.estop(TypeRelease, 3, 0))
	assert.False(t, p.wait(t, 5*time.Second, "estop-state", func(m wireMsg) bool { return m.Type == TypeEStopState }).Latched)
	select {
	case latched := <-l.robot.estop:
		assert.False(t, latched)
	case <-time.After(time.Second):
		t.Fatal("the program was not told of the release")
	}
	assert.Equal(t, TypeEcho, p.answer(t, p.send(TypeDrive, 0, drive)).Type)
}

// Bad messages among the commands are dropped and counted; the commands
// around them run and nothing stops.
func TestBadMessagesInStream(t *testing.T) {
	l := connect(t, Config{}, 0, nil)
	bad := [][]byte{[]byte(`{`), []byte(`{"type":"drive","linear":9}`), []byte(`{"type":"warp"}`), {0xff, 0xfe}}
	for i := 0; i < 10; i++ {
		seq := l.page.send(TypeDrive, 0, drive)
		require.NoError(t, l.page.s.SendData(Label, bad[i%len(bad)]))
		require.NoError(t, l.page.s.SendData(EStopLabel, bad[i%len(bad)]))
		assert.Equal(t, TypeEcho, l.page.answer(t, seq).Type)
		time.Sleep(50 * time.Millisecond)
	}
	st := l.robot.Stats()
	assert.Equal(t, uint64(20), st.Invalid)
	assert.False(t, st.Latched)
	stops, _, _ := l.robot.stopsSoFar()
	assert.Empty(t, stops)
	assert.False(t, math.IsNaN(float64(st.Offset)))
}
