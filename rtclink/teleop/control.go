package teleop

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// DefaultIdle is how long a driver must have left the robot still before
// the default rule of a [Control] gives control to a viewer who asks.
const DefaultIdle = 2 * time.Second

// ControlConfig configures a [Control]. The zero value gives control to
// a viewer who asks once the driver has not moved the robot for
// DefaultIdle.
type ControlConfig struct {
	// Grant decides a viewer's request for control while holder has it;
	// idle is how long the holder has not moved the robot, zero while it
	// moves. Nil means granting once idle reaches Idle.
	Grant func(asker, holder string, idle time.Duration) bool
	// Idle is the default rule's wait. Zero means DefaultIdle.
	Idle time.Duration
	// OnControl is told each time control changes hands, with the viewer
	// who now drives, "" for none. It runs one at a time with the
	// Robots' callbacks. Nil means none.
	OnControl func(viewer string)
	// Logger receives the changes of control. Nil means slog.Default().
	Logger *slog.Logger
}

// Control lets one of several viewers of a robot drive it at a time. Each
// viewer's session gets its own [Robot] from Control.Robot; only the
// viewer holding control has its commands, stops included, executed, and
// the others' are refused "observer". Any viewer's E-stop stops the robot
// and latches it for all; only the viewer who latched it releases it, or
// the driver once that viewer has left.
//
// The first viewer whose teleop channel opens while no one drives takes
// control. Another asks with {"type":"control-request"} and gets it when
// ControlConfig.Grant allows; a refused request waits, and the waiting
// viewers get control in turn when the driver lets go
// ({"type":"control-release"}) or leaves. Every viewer is told who drives
// with {"type":"control","you":B,"driver":ID,"waiting":B,"why":W}, where
// why is "busy" on the answer to a refused request. A driver losing
// control while moving is stopped first (StopControl).
type Control struct {
	cfg ControlConfig
	log *slog.Logger

	// act is every Robot's: one decision and its callbacks at a time,
	// across viewers, so an E-stop and a drive never cross.
	act sync.Mutex

	// mu guards what follows; it is taken last, never around a Robot's
	// own lock.
	mu        sync.Mutex
	robots    map[string]*Robot
	holder    string
	waiting   []string
	latched   bool
	latchedBy string
}

// NewControl returns a Control. An error wraps ErrConfig when cfg cannot
// work.
func NewControl(cfg ControlConfig) (*Control, error) {
	if cfg.Idle < 0 {
		return nil, fmt.Errorf("%w: negative idle %v", ErrConfig, cfg.Idle)
	}
	if cfg.Idle == 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Grant == nil {
		idle := cfg.Idle
		cfg.Grant = func(_, _ string, d time.Duration) bool { return d >= idle }
	}
	c := &Control{cfg: cfg, log: cfg.Logger, robots: map[string]*Robot{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Robot returns viewer's Robot, configured by cfg: wire it into that
// viewer's session as any Robot. A viewer that had one gets a new one,
// the old one left first.
func (c *Control) Robot(viewer string, cfg Config) (*Robot, error) {
	if viewer == "" {
		return nil, fmt.Errorf("%w: a viewer needs an id", ErrConfig)
	}
	r, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r.ctl, r.viewer, r.act = c, viewer, &c.act
	c.mu.Lock()
	_, had := c.robots[viewer]
	c.mu.Unlock()
	if had {
		c.Leave(viewer)
	}
	c.mu.Lock()
	c.robots[viewer] = r
	c.mu.Unlock()
	return r, nil
}

// Leave ends viewer's part: its Robot stops the robot if it was driving
// (StopLink) and is closed, and control passes to the longest-waiting
// viewer, or to none.
func (c *Control) Leave(viewer string) {
	c.act.Lock()
	c.mu.Lock()
	r := c.robots[viewer]
	delete(c.robots, viewer)
	c.waiting = slices.DeleteFunc(c.waiting, func(v string) bool { return v == viewer })
	if c.latchedBy == viewer {
		c.latchedBy = ""
	}
	was := c.holder == viewer
	c.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
		} else {
			r.stopLocked(StopLink)
		}
	}
	if was {
		c.passOn(viewer)
	}
	c.act.Unlock()
	if r != nil {
		_ = r.Close()
	}
}

// Holder is the viewer who drives now, "" for none.
func (c *Control) Holder() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.holder
}

// arrive is r's teleop channel opening: it takes control when no one
// has it, and is told who drives. c.act is held.
func (c *Control) arrive(r *Robot) {
	c.mu.Lock()
	take := c.holder == ""
	c.mu.Unlock()
	if take {
		c.give(r.viewer)
		return
	}
	c.tell(r, "")
}

// handle takes a control-request or control-release from r's page.
func (c *Control) handle(r *Robot, typ string) {
	c.act.Lock()
	defer c.act.Unlock()
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return
	}
	c.mu.Lock()
	holder := c.holder
	hr := c.robots[holder]
	c.mu.Unlock()
	switch {
	case typ == TypeControlRelease:
		if holder == r.viewer {
			c.stopDriver(r)
			c.passOn(r.viewer)
		}
	case holder == r.viewer:
		c.tell(r, "")
	case holder == "" || hr == nil || c.cfg.Grant(r.viewer, holder, hr.idle()):
		c.stopDriver(hr)
		c.give(r.viewer)
	default:
		c.mu.Lock()
		if !slices.Contains(c.waiting, r.viewer) {
			c.waiting = append(c.waiting, r.viewer)
		}
		c.mu.Unlock()
		c.log.Info("teleop: control request refused while the driver moves the robot", "viewer", r.viewer, "driver", holder)
		c.tell(r, "busy")
	}
}

// stopDriver stops r, the driver losing control, if it moves. c.act is
// held.
func (c *Control) stopDriver(r *Robot) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.stopLocked(StopControl)
}

// passOn gives control, which from held, to the longest-waiting viewer
// still here, or to none. c.act is held.
func (c *Control) passOn(from string) {
	c.mu.Lock()
	next := ""
	for len(c.waiting) > 0 && next == "" {
		v := c.waiting[0]
		c.waiting = c.waiting[1:]
		if _, ok := c.robots[v]; ok && v != from {
			next = v
		}
	}
	c.mu.Unlock()
	c.give(next)
}

// give makes viewer the driver ("" for none) and tells every viewer.
// c.act is held.
func (c *Control) give(viewer string) {
	c.mu.Lock()
	changed := c.holder != viewer
	c.holder = viewer
	c.waiting = slices.DeleteFunc(c.waiting, func(v string) bool { return v == viewer })
	robots := c.sorted()
	c.mu.Unlock()
	if changed {
		c.log.Info("teleop: control changes hands", "driver", viewer)
		if c.cfg.OnControl != nil {
			c.cfg.OnControl(viewer)
		}
	}
	for _, r := range robots {
		c.tell(r, "")
	}
}

// sorted is every Robot, in viewer order; c.mu is held.
func (c *Control) sorted() []*Robot {
	ids := make([]string, 0, len(c.robots))
	for id := range c.robots {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*Robot, len(ids))
	for i, id := range ids {
		out[i] = c.robots[id]
	}
	return out
}

// tell sends r's page who drives, with why for a refused request.
func (c *Control) tell(r *Robot, why string) {
	r.mu.Lock()
	open := r.teleopOpen && !r.closed
	r.mu.Unlock()
	if !open {
		return
	}
	c.mu.Lock()
	holder := c.holder
	waiting := slices.Contains(c.waiting, r.viewer)
	c.mu.Unlock()
	r.send(Label, controlMsg(holder == r.viewer, holder, waiting, why))
}

// latchChanged tells the other viewers' pages the latch after r's
// E-stop message, and takes every driver's motion away on an E-stop.
// c.act is held.
func (c *Control) latchChanged(r *Robot, latched, estop bool) {
	c.mu.Lock()
	robots := c.sorted()
	c.mu.Unlock()
	for _, o := range robots {
		if o == r {
			continue
		}
		o.mu.Lock()
		if estop {
			// OnStop ran once, for r's E-stop: no second stop later.
			o.driving = false
		}
		open := o.estopOpen && !o.closed
		o.mu.Unlock()
		if open {
			o.send(EStopLabel, estopStateMsg(latched, 0))
		}
	}
}

func (c *Control) holds(viewer string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.holder == viewer
}

func (c *Control) isLatched() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latched
}

func (c *Control) setLatched(on bool, viewer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latched = on
	c.latchedBy = ""
	if on {
		c.latchedBy = viewer
	}
}

// mayRelease reports whether viewer may release the latch: it latched
// it, or it drives and the viewer who latched it has left.
func (c *Control) mayRelease(viewer string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latchedBy == viewer || (c.latchedBy == "" && (c.holder == viewer || c.holder == ""))
}

// idle is how long r has not moved the robot, zero while it moves.
func (r *Robot) idle() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.driving {
		return 0
	}
	if r.lastMove.IsZero() {
		return time.Duration(1<<63 - 1)
	}
	return r.clock.Now().Sub(r.lastMove)
}

func controlMsg(you bool, driver string, waiting bool, why string) []byte {
	return marshal(struct {
		Type    string `json:"type"`
		You     bool   `json:"you"`
		Driver  string `json:"driver"`
		Waiting bool   `json:"waiting"`
		Why     string `json:"why,omitempty"`
	}{TypeControl, you, driver, waiting, why})
}
