package browserbench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"time"
)

// Lockout is how soon the viewer page turns driving off when the robot's
// video freezes.
type Lockout struct {
	// LimitMs is the page's stale-video limit (its default).
	LimitMs float64
	// Ms holds, for each freeze, the time from the last picture the page
	// showed to the page turning driving off, both on the page's clock
	// (window.avlinkViewer.state().lockout: since less lastFrame).
	Ms []float64
}

// Lockout measures freeze to lockout n times in one call: our page,
// opened by a fresh browser, is called by examples/sender; once the page
// can drive, the sender is stopped (SIGSTOP: its video freezes, as
// everything else in it) until the page turns driving off, then let go
// on (SIGCONT) until the page turns driving on again.
func (b *Bench) Lockout(ctx context.Context, n int) (Lockout, error) {
	cfg := b.cfg
	var res Lockout
	room := fmt.Sprintf("bench-lockout-%d", b.rooms.Add(1))
	page, err := openBrowser(cfg.Chromium, cfg.ChromiumArgs, b.signalBase+"/?room="+room, "")
	if err != nil {
		return res, err
	}
	defer func() { fmt.Fprintf(cfg.LogTo, "lockout chromium:\n%s\n", tail(page.close(), 4000)) }()
	ws := "ws" + strings.TrimPrefix(b.signalBase, "http")
	robot, err := startProcess("sender", b.sender, []string{"-signal", ws, "-room", room}, "", cfg.LogTo)
	if err != nil {
		return res, err
	}
	defer robot.stop()
	freeze := func(on bool) {
		sig := syscall.SIGCONT
		if on {
			sig = syscall.SIGSTOP
		}
		_ = syscall.Kill(-robot.cmd.Process.Pid, sig)
	}

	var st struct {
		Connection    string `json:"connection"`
		FramesDecoded int    `json:"framesDecoded"`
		Teleop        struct {
			Open bool `json:"open"`
		} `json:"teleop"`
		Lockout struct {
			Locked    bool     `json:"locked"`
			Since     *float64 `json:"since"`
			LastFrame *float64 `json:"lastFrame"`
		} `json:"lockout"`
		Limits struct {
			StaleMs float64 `json:"staleMs"`
		} `json:"limits"`
	}
	poll := func(what string, cond func() bool) error {
		deadline := time.Now().Add(cfg.Timeout)
		for {
			if err := page.eval("window.avlinkViewer ? window.avlinkViewer.state() : null", &st); err == nil && cond() {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: lockout: the page never showed %s within %v", ErrTimeout, what, cfg.Timeout)
			}
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				return err
			}
		}
	}
	if err := poll("driving on", func() bool {
		return st.Connection == "connected" && st.FramesDecoded > 0 && st.Teleop.Open && !st.Lockout.Locked
	}); err != nil {
		return res, err
	}
	res.LimitMs = st.Limits.StaleMs
	for range n {
		// A second of moving video between freezes.
		if err := sleep(ctx, time.Second); err != nil {
			return res, err
		}
		freeze(true)
		err := poll("driving off for frozen video", func() bool {
			return st.Lockout.Locked && st.Lockout.Since != nil && st.Lockout.LastFrame != nil
		})
		freeze(false)
		if err != nil {
			return res, err
		}
		res.Ms = append(res.Ms, *st.Lockout.Since-*st.Lockout.LastFrame)
		if err := poll("driving on again", func() bool { return !st.Lockout.Locked }); err != nil {
			return res, err
		}
	}
	return res, nil
}

// WriteLockout prints the freeze to lockout figures: p50 and p95 over
// the freezes, and their range; nothing when there are none.
func WriteLockout(w io.Writer, l Lockout) {
	if len(l.Ms) == 0 {
		return
	}
	lo, hi := l.Ms[0], l.Ms[0]
	for _, v := range l.Ms {
		lo, hi = min(lo, v), max(hi, v)
	}
	fmt.Fprintf(w, "Freeze → lockout, our robot (examples/sender) frozen %d times under our page: last picture shown → driving off p50 %s ms, p95 %s ms (%s–%s ms); stale-video limit %s ms, checked every 100 ms\n",
		len(l.Ms), ms(Percentile(l.Ms, 0.5)), ms(Percentile(l.Ms, 0.95)), ms(lo), ms(hi), ms(l.LimitMs))
}
