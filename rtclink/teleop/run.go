package teleop

import (
	"context"
	"time"
)

// start starts the Robot's goroutine unless it runs or the Robot is
// closed.
func (r *Robot) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running || r.closed {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.running, r.cancel = true, cancel
	r.wg.Add(1)
	go r.run(ctx)
}

// run checks the deadman every CheckInterval and sends the clock syncs
// when they are due, until Close or until the attached session is done.
func (r *Robot) run(ctx context.Context) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()
	next := r.clock.Now().Add(r.cfg.CheckInterval)
	for {
		wake := next
		r.mu.Lock()
		if ns := r.nextSync; !ns.IsZero() && ns.Before(wake) {
			wake = ns
		}
		done := sessionDone(r.out)
		r.mu.Unlock()
		if r.clock.SleepUntil(ctx, wake) != nil {
			return
		}
		select {
		case <-done:
			return
		default:
		}
		now := r.clock.Now()
		if !now.Before(next) {
			r.checkDeadman(now)
			next = next.Add(r.cfg.CheckInterval)
			if !next.After(now) {
				next = now.Add(r.cfg.CheckInterval)
			}
		}
		r.syncIfDue(now)
	}
}

// sessionDone is s's Done channel, or nil (never ready) when it has none.
func sessionDone(s Sender) <-chan struct{} {
	if d, ok := s.(interface{ Done() <-chan struct{} }); ok {
		return d.Done()
	}
	return nil
}

func (r *Robot) checkDeadman(now time.Time) {
	r.act.Lock()
	defer r.act.Unlock()
	r.mu.Lock()
	if r.closed || !r.driving || now.Sub(r.lastGood) < r.cfg.Deadman {
		r.mu.Unlock()
		return
	}
	r.stopLocked(StopDeadman)
}

func (r *Robot) syncIfDue(now time.Time) {
	r.mu.Lock()
	if r.closed || !r.teleopOpen || r.nextSync.IsZero() || now.Before(r.nextSync) {
		r.mu.Unlock()
		return
	}
	msg := r.newSyncLocked(now)
	gap := burstGap
	if r.burst > 0 {
		r.burst--
	}
	if r.burst == 0 {
		gap = r.cfg.SyncInterval
	}
	r.nextSync = now.Add(gap)
	r.mu.Unlock()
	r.send(Label, msg)
}
