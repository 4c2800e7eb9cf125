package teleop

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/rtclink"
	"golang.org/x/time/rate"
)

// Defaults of the Config durations.
const (
	DefaultMaxAge        = 250 * time.Millisecond
	DefaultDeadman       = 300 * time.Millisecond
	DefaultCheckInterval = 20 * time.Millisecond
	DefaultSyncInterval  = time.Second
)

// Sender sends a message on a data channel; an rtclink.Session is one.
type Sender interface {
	SendData(ch rtclink.Channel, data []byte) error
}

// Config configures a [Robot]. The zero value echoes every command that
// passes the age gate, stops nothing it was not told how to stop, and
// uses the defaults below.
type Config struct {
	// OnCommand receives every command the robot executes, in the order
	// they arrive, on the channel's goroutine. Nil means none.
	OnCommand func(Command)
	// OnStop is the robot program's stop: zero velocity, now. It runs
	// once per driving episode when the robot stops by itself (deadman,
	// link, channel), and on every E-stop, driving or not. Nil means
	// OnCommand receives a stop command with seq 0 instead.
	OnStop func(StopReason)
	// OnEStop is told of every E-stop (true, right after OnStop) and of
	// the valid release that unlatches it (false). Nil means none.
	OnEStop func(latched bool)
	// The callbacks run one at a time, never concurrently with each
	// other; they must not call the Robot's Handle methods or Close.

	// MaxAge is the age gate: a command older than this on the synced
	// clock is refused "stale". Zero means DefaultMaxAge.
	MaxAge time.Duration
	// Deadman is how long a driving robot waits for its next valid
	// command before it stops. Zero means DefaultDeadman.
	Deadman time.Duration
	// CheckInterval is how often the deadman is checked, on the Robot's
	// goroutine: a stop comes at most Deadman + CheckInterval after the
	// last valid command. Zero means DefaultCheckInterval; at most
	// Deadman.
	CheckInterval time.Duration
	// SyncInterval is how often the clock is measured once the first
	// burst is done. Zero means DefaultSyncInterval.
	SyncInterval time.Duration
	// Clock tells the robot's time and paces its goroutine. Nil means
	// capture.WallClock.
	Clock capture.Clock
	// Logger receives invalid messages and failed sends, at most one a
	// second. Nil means slog.Default().
	Logger *slog.Logger
}

// RefusedCounts counts refused commands by reason.
type RefusedCounts struct {
	Stale, Order, EStop, Unsynced, Observer, Channel uint64
}

// StopCounts counts the robot's own stops by reason.
type StopCounts struct {
	Deadman, Link, Channel, EStop, Control uint64
}

// Stats are a Robot's current figures.
type Stats struct {
	// Synced is true once there is a clock estimate for the page that
	// is connected now.
	Synced bool
	// Offset is the page's clock minus the robot's; RTT the round trip
	// of the sample it comes from, and Uncertainty half of that.
	Offset, RTT, Uncertainty time.Duration
	// Samples counts the clock samples taken since the Robot started.
	Samples uint64
	// Accepted counts executed commands; Refused those refused; Invalid
	// the messages that were not valid at all.
	Accepted uint64
	Refused  RefusedCounts
	Invalid  uint64
	// Stops counts the robot's own stops.
	Stops StopCounts
	// Driving is true while the last executed drive or stop asked for
	// motion; Latched while the E-stop is.
	Driving, Latched bool
}

// Robot is the robot's end of the teleop and E-stop channels. It starts
// one goroutine, at the first channel or connection event or message,
// which runs the deadman and the clock sync until Close (or until the
// session given to Attach is done). Its methods are safe for concurrent
// use.
type Robot struct {
	cfg      Config
	clock    capture.Clock
	log      *slog.Logger
	sometime rate.Sometimes

	// act serialises each decision with the callbacks it makes, so that
	// a command and a stop never reach the program out of order. The
	// Robots of one Control share theirs.
	act *sync.Mutex

	// ctl, when set, is the Control deciding whether viewer drives.
	ctl    *Control
	viewer string

	mu      sync.Mutex
	out     Sender
	closed  bool
	running bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// wired is set by the first HandleChannel: until then, the first
	// message on the teleop channel stands for its opening.
	wired      bool
	teleopOpen bool
	estopOpen  bool
	estopGone  bool // the page's E-stop channel closed while its teleop channel was open

	// The page session's commands.
	floor    uint64  // last accepted seq
	lastT    float64 // its t
	accepted bool    // a command was accepted in this page session
	driving  bool
	lastGood time.Time // robot time of the last accepted drive or stop
	lastMove time.Time // robot time of the last accepted moving drive

	// The clock sync.
	filter   clockFilter
	syncID   uint64
	pending  map[uint64]float64 // sync id -> t0
	nextSync time.Time
	burst    int

	// The E-stop; a Control's latch when there is one.
	latched    bool
	estopFloor uint64

	stats Stats
}

// New returns a Robot. An error wraps ErrConfig when cfg cannot work.
func New(cfg Config) (*Robot, error) {
	for _, d := range []time.Duration{cfg.MaxAge, cfg.Deadman, cfg.CheckInterval, cfg.SyncInterval} {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative duration %v", ErrConfig, d)
		}
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Deadman == 0 {
		cfg.Deadman = DefaultDeadman
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = min(DefaultCheckInterval, cfg.Deadman)
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.CheckInterval > cfg.Deadman {
		return nil, fmt.Errorf("%w: check interval %v longer than the deadman %v", ErrConfig, cfg.CheckInterval, cfg.Deadman)
	}
	r := &Robot{
		act:      new(sync.Mutex),
		cfg:      cfg,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		sometime: rate.Sometimes{Interval: time.Second},
		pending:  map[uint64]float64{},
	}
	if r.clock == nil {
		r.clock = capture.WallClock{}
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// Attach makes the robot's messages go out through s, the robot's
// session. Until it is called, commands are handled but nothing is sent,
// so no clock sync either. When s has a Done method (an rtclink.Session
// does), the Robot's goroutine ends with it.
func (r *Robot) Attach(s Sender) {
	r.mu.Lock()
	r.out = s
	r.mu.Unlock()
}

// Close stops the Robot's goroutine and waits for it. Messages handled
// after Close are dropped.
func (r *Robot) Close() error {
	r.mu.Lock()
	r.closed = true
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// Stats returns the Robot's current figures.
func (r *Robot) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.Driving, st.Latched = r.driving, r.isLatched()
	st.Samples = r.filter.total
	if s, ok := r.filter.best(); ok {
		st.Synced = true
		st.Offset, st.RTT, st.Uncertainty = dur(s.offset), dur(s.rtt), dur(s.rtt/2)
	}
	return st
}

// Handle takes one data-channel message, as rtclink.Config.OnData gets
// it. It reports whether the message was the teleop or E-stop channel's,
// so that a program can hand other channels' messages elsewhere. A
// command that passes the gate goes to Config.OnCommand and is echoed,
// one that does not is answered "refused", an invalid message is logged
// and dropped.
func (r *Robot) Handle(ch rtclink.Channel, data []byte) bool {
	switch ch {
	case Label:
		r.handleTeleop(data)
	case EStopLabel:
		r.handleEStop(data)
	default:
		return false
	}
	return true
}

// HandleChannel follows the channels, as rtclink.Config.OnChannel gets
// their events. It reports whether ch is the teleop or E-stop channel.
// An opening channel is a new page: the seq floor and the clock estimate
// start afresh, and the clock sync starts. A closing one stops a driving
// robot (StopChannel).
func (r *Robot) HandleChannel(ch rtclink.Channel, open bool) bool {
	if ch != Label && ch != EStopLabel {
		return false
	}
	r.start()
	r.act.Lock()
	defer r.act.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return true
	}
	r.wired = true
	switch {
	case ch == Label && open:
		msg := r.openTeleop()
		r.mu.Unlock()
		r.send(Label, msg)
		if r.ctl != nil {
			r.ctl.arrive(r)
		}
	case ch == EStopLabel && open:
		r.estopOpen, r.estopFloor = true, 0
		latched := r.isLatched()
		r.mu.Unlock()
		r.send(EStopLabel, estopStateMsg(latched, 0))
	default:
		if ch == Label {
			// The clock estimate was the page's that left.
			r.teleopOpen, r.nextSync = false, time.Time{}
			r.filter.reset()
			clear(r.pending)
		} else {
			r.estopOpen = false
			// A command still on its way from a page that is leaving
			// must not drive the robot again once it has stopped.
			r.estopGone = r.teleopOpen
		}
		r.stopLocked(StopChannel)
	}
	return true
}

// HandleState follows the connection, as rtclink.Config.OnState gets its
// states: disconnected, failed or closed stops a driving robot
// (StopLink).
func (r *Robot) HandleState(st rtclink.State) {
	switch st {
	case rtclink.StateDisconnected, rtclink.StateFailed, rtclink.StateClosed:
	default:
		return
	}
	r.start()
	r.act.Lock()
	defer r.act.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.stopLocked(StopLink)
}

// openTeleop starts a page session on the teleop channel and returns its
// first sync, to send once r.mu, held, is released.
func (r *Robot) openTeleop() []byte {
	r.teleopOpen, r.estopGone = true, false
	r.floor, r.lastT, r.accepted = 0, 0, false
	r.filter.reset()
	clear(r.pending)
	now := r.clock.Now()
	r.burst = burstSyncs
	r.nextSync = now.Add(burstGap)
	return r.newSyncLocked(now)
}

// newSyncLocked returns a sync stamped now, to send once r.mu, held, is
// released; nil when there is no session to send it.
func (r *Robot) newSyncLocked(now time.Time) []byte {
	if r.out == nil {
		return nil
	}
	r.syncID++
	t0 := ms(now)
	r.pending[r.syncID] = t0
	delete(r.pending, r.syncID-maxPendingSyncs)
	return syncMsg(r.syncID, t0)
}

func (r *Robot) handleTeleop(data []byte) {
	typ, err := peekType(data)
	if err == nil && typ == TypeSyncReply {
		r.handleSyncReply(data)
		return
	}
	if err == nil && r.ctl != nil && (typ == TypeControlRequest || typ == TypeControlRelease) {
		r.ctl.handle(r, typ)
		return
	}
	var c Command
	if err == nil {
		c, err = Parse(data)
	}
	if err != nil {
		r.invalid(err)
		return
	}
	r.start()
	r.act.Lock()
	defer r.act.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	var sync []byte
	if !r.wired && !r.teleopOpen {
		// A program that does not follow the channels: the first
		// message stands for the opening.
		sync = r.openTeleop()
	}
	now := r.clock.Now()
	var why Refusal
	switch {
	case c.Type == TypeStop && !r.observerLocked():
		// Stopping is always safe: a late, overtaken or unsynced stop
		// runs too, but only a fresh one moves the seq floor.
		if r.refusal(c, now) == "" {
			r.floor, r.lastT, r.accepted = c.Seq, c.T, true
		}
		r.stats.Accepted++
		r.driving, r.lastGood = false, now
	default:
		if why = r.gate(c, now); why == "" {
			r.floor, r.lastT, r.accepted = c.Seq, c.T, true
			r.stats.Accepted++
			if c.Type == TypeDrive {
				r.driving, r.lastGood = c.Moving(), now
				if r.driving {
					r.lastMove = now
				}
			}
		}
	}
	r.mu.Unlock()
	r.send(Label, sync)
	if why != "" {
		r.send(Label, refusedMsg(c, why))
		return
	}
	if r.cfg.OnCommand != nil {
		r.cfg.OnCommand(c)
	}
	r.send(Label, Echo(c))
}

// gate decides whether c may run, and counts a refusal; r.mu is held.
func (r *Robot) gate(c Command, now time.Time) Refusal {
	why := r.refusal(c, now)
	switch why {
	case RefusedStale:
		r.stats.Refused.Stale++
	case RefusedOrder:
		r.stats.Refused.Order++
	case RefusedEStop:
		r.stats.Refused.EStop++
	case RefusedUnsynced:
		r.stats.Refused.Unsynced++
	case RefusedObserver:
		r.stats.Refused.Observer++
	case RefusedChannel:
		r.stats.Refused.Channel++
	}
	return why
}

func (r *Robot) refusal(c Command, now time.Time) Refusal {
	if r.observerLocked() {
		return RefusedObserver
	}
	if r.estopGone {
		return RefusedChannel
	}
	if !r.fresh(c.T, now) {
		if _, ok := r.filter.best(); !ok {
			return RefusedUnsynced
		}
		return RefusedStale
	}
	if c.Seq <= r.floor {
		// Within one page the page's clock and seq rise together, so a
		// lower seq with a later t is a reloaded page whose channel
		// events the program does not pass on.
		if r.wired || !r.accepted || c.T <= r.lastT {
			return RefusedOrder
		}
	}
	if r.isLatched() && c.Type != TypeStop {
		return RefusedEStop
	}
	return ""
}

// fresh reports whether a message the page sent at its time t passes the
// age gate; r.mu is held.
func (r *Robot) fresh(t float64, now time.Time) bool {
	s, ok := r.filter.best()
	if !ok {
		return false
	}
	age := ms(now) - (t - s.offset)
	return age <= float64(r.cfg.MaxAge)/float64(time.Millisecond)
}

func (r *Robot) handleSyncReply(data []byte) {
	m, err := parseSyncReply(data)
	if err != nil {
		r.invalid(err)
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	now := r.clock.Now()
	t0, ok := r.pending[m.ID]
	if !ok || math.Abs(t0-m.T0) > 0.001 {
		// Late (forgotten), answered twice, or not ours.
		r.mu.Unlock()
		return
	}
	s, ok := newSample(t0, m.T1, m.T2, ms(now))
	if !ok {
		r.mu.Unlock()
		r.invalid(fmt.Errorf("%w: sync reply %d with t1 %g, t2 %g", ErrBadCommand, m.ID, m.T1, m.T2))
		return
	}
	delete(r.pending, m.ID)
	r.filter.add(s)
	best, _ := r.filter.best()
	r.mu.Unlock()
	r.send(Label, clockMsg(best))
}

func (r *Robot) handleEStop(data []byte) {
	m, err := parseEStop(data)
	if err != nil {
		r.invalid(err)
		return
	}
	r.start()
	r.act.Lock()
	defer r.act.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	release := false
	if m.Type == TypeRelease {
		// A release must be fresh: on the synced clock, within the age
		// gate, and newer than every message before it.
		release = r.isLatched() && m.Seq > r.estopFloor && r.fresh(m.T, r.clock.Now()) &&
			(r.ctl == nil || r.ctl.mayRelease(r.viewer))
	}
	r.estopFloor = max(r.estopFloor, m.Seq)
	switch {
	case m.Type == TypeEStop:
		// Every E-stop stops, latched before or not.
		r.setLatched(true)
		r.stopLocked(StopEStop)
		if r.cfg.OnEStop != nil {
			r.cfg.OnEStop(true)
		}
	case release:
		r.setLatched(false)
		r.mu.Unlock()
		if r.cfg.OnEStop != nil {
			r.cfg.OnEStop(false)
		}
	default:
		r.mu.Unlock()
	}
	r.mu.Lock()
	latched := r.isLatched()
	r.mu.Unlock()
	r.send(EStopLabel, estopStateMsg(latched, m.Seq))
	if r.ctl != nil {
		r.ctl.latchChanged(r, latched, m.Type == TypeEStop)
	}
}

// isLatched reports the E-stop latch, the Control's when there is one;
// r.mu is held.
func (r *Robot) isLatched() bool {
	if r.ctl != nil {
		return r.ctl.isLatched()
	}
	return r.latched
}

// setLatched sets the E-stop latch; r.mu is held.
func (r *Robot) setLatched(on bool) {
	if r.ctl != nil {
		r.ctl.setLatched(on, r.viewer)
		return
	}
	r.latched = on
}

// observerLocked reports whether r's viewer watches while another
// drives; r.mu is held.
func (r *Robot) observerLocked() bool {
	return r.ctl != nil && !r.ctl.holds(r.viewer)
}

// stopLocked stops a driving robot (any robot, for an E-stop): it tells
// the page and runs the program's stop. r.act and r.mu are held; r.mu is
// released.
func (r *Robot) stopLocked(why StopReason) {
	if !r.driving && why != StopEStop {
		r.mu.Unlock()
		return
	}
	r.driving = false
	switch why {
	case StopDeadman:
		r.stats.Stops.Deadman++
	case StopLink:
		r.stats.Stops.Link++
	case StopChannel:
		r.stats.Stops.Channel++
	case StopEStop:
		r.stats.Stops.EStop++
	case StopControl:
		r.stats.Stops.Control++
	}
	open := r.teleopOpen
	r.mu.Unlock()
	switch {
	case r.cfg.OnStop != nil:
		r.cfg.OnStop(why)
	case r.cfg.OnCommand != nil:
		r.cfg.OnCommand(Command{Type: TypeStop})
	}
	if open {
		r.send(Label, stoppedMsg(why))
	}
}

// send sends one message to the page, if there is a session to send it.
func (r *Robot) send(ch rtclink.Channel, msg []byte) {
	if msg == nil {
		return
	}
	r.mu.Lock()
	out := r.out
	r.mu.Unlock()
	if out == nil {
		return
	}
	if err := out.SendData(ch, msg); err != nil {
		r.sometime.Do(func() { r.log.Warn("teleop: message not sent", "channel", string(ch), "err", err) })
	}
}

func (r *Robot) invalid(err error) {
	r.mu.Lock()
	r.stats.Invalid++
	r.mu.Unlock()
	r.sometime.Do(func() { r.log.Warn("teleop: message dropped", "err", err) })
}
