package vp8

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/vpx"
)

// timebase is the clock libvpx timestamps are counted in, the RTP video
// clock.
const timebase = 90000

// Encoder is a realtime VP8 encoder. It implements [capture.VideoEncoder].
//
// Encode is used from one goroutine at a time. Close may be called from
// another goroutine; it waits for a running Encode. SetBitrate may be called from any goroutine at any time (for
// example from a bandwidth estimator); the new target takes effect at the
// next Encode.
type Encoder struct {
	cfg    EncoderConfig
	log    *slog.Logger
	target atomic.Int64 // bits per second requested by SetBitrate
	closed atomic.Bool

	mu       sync.Mutex
	enc      *vpx.Encoder // nil until the first frame fixes the size
	w, h     int
	nominal  int64 // frame interval in timebase ticks
	started  bool
	lastPts  int64
	anchored bool
	anchorT  time.Time
	anchorP  int64
	keyDue   bool // the next frame must be a keyframe: asked for on a dropped frame, or the first after prepare

	ready chan struct{} // closed when the set-up ahead is done
}

var (
	_ capture.VideoEncoder    = (*Encoder)(nil)
	_ capture.PreparedEncoder = (*Encoder)(nil)
)

// NewEncoder returns an encoder configured by cfg. When cfg gives a size,
// NewEncoder returns at once and libvpx is set up in the background,
// encoding one throwaway frame: libvpx's setup and its first frame take
// tens of milliseconds (mostly first-touch page faults), which then
// overlap the program's own start instead of delaying its first picture.
// An Encode that comes sooner waits for it. Without a size, libvpx is set
// up on the first frame.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Encoder{cfg: c, log: c.Logger, nominal: int64(timebase / c.FrameRate), ready: make(chan struct{})}
	e.target.Store(int64(c.Bitrate))
	if c.Width > 0 {
		e.mu.Lock() // held until prepared, so that Encode and Close wait
		go e.prepare(c.Width, c.Height)
	} else {
		close(e.ready)
	}
	return e, nil
}

// WaitPrepared waits until the libvpx set-up NewEncoder started for the
// config's frame size is done, or ctx ends. A robot that joins its room
// only then can send a viewer's first picture as soon as the call is up,
// rather than after the rest of the set-up. Without a size in the config
// it returns at once.
func (e *Encoder) WaitPrepared(ctx context.Context) error {
	select {
	case <-e.ready:
		return nil
	default:
	}
	select {
	case <-e.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Prepared reports whether the config gave this frame size, so that
// libvpx is (or is being) set up for it ahead of the first frame.
func (e *Encoder) Prepared(width, height int) bool {
	return e.cfg.Width > 0 && width == e.cfg.Width && height == e.cfg.Height
}

// prepare sets libvpx up for w×h and encodes a flat grey frame whose
// output is dropped, then unlocks e.mu (locked by NewEncoder). A failure
// is only logged: the first Encode tries again and reports it.
func (e *Encoder) prepare(w, h int) {
	defer close(e.ready)
	defer e.mu.Unlock()
	start := time.Now()
	if err := e.open(w, h); err != nil {
		e.log.Debug("vp8: cannot set the encoder up ahead of the first frame", "err", err)
		return
	}
	ysz, csz := w*h, ((w+1)/2)*((h+1)/2)
	grey := make([]byte, ysz+2*csz)
	for i := range grey {
		grey[i] = 128
	}
	// The grey frame takes the first timestamp; the next frame, the
	// first real one, is a keyframe.
	_, _, err := e.enc.Encode(grey[:ysz], grey[ysz:ysz+csz], grey[ysz+csz:], w, (w+1)/2, e.pts(time.Time{}), uint64(e.nominal), true)
	e.keyDue = true
	e.log.Debug("vp8: encoder set up ahead of the first frame", "size", fmt.Sprintf("%dx%d", w, h), "took", time.Since(start), "err", err)
}

// Codec describes the output: VP8 on the 90 kHz RTP clock.
func (e *Encoder) Codec() capture.Codec {
	return capture.Codec{MimeType: "video/VP8", ClockRate: timebase}
}

// Bitrate returns the current target in bits per second, after clamping.
func (e *Encoder) Bitrate() int { return int(e.target.Load()) }

// BitrateRange returns the bounds SetBitrate clamps to.
func (e *Encoder) BitrateRange() (minBps, maxBps int) { return e.cfg.MinBitrate, e.cfg.MaxBitrate }

// SetBitrate sets the target bitrate in bits per second, clamped to
// [MinBitrate, MaxBitrate] of the config. It does not wait for a running
// Encode: libvpx is reconfigured at the next Encode, and only if the
// target in kbit/s changed.
func (e *Encoder) SetBitrate(bps int) error {
	if bps <= 0 {
		return fmt.Errorf("%w: %d bit/s", ErrBitrate, bps)
	}
	if e.closed.Load() {
		return ErrClosed
	}
	e.target.Store(int64(e.cfg.clamp(bps)))
	return nil
}

// Encode encodes one I420 frame. keyframe forces a keyframe. It returns a
// nil sample when the rate control dropped the frame (only possible with
// FrameDropThreshold set); a keyframe asked for on a dropped frame comes
// on the next one. A frame of another size than the previous one
// re-creates the encoder at the new size; the result is a keyframe.
//
// Frames with a non-zero Time are timestamped from it, so the rate
// control sees the real frame rate; frames with a zero Time are assumed to
// follow each other at the configured FrameRate.
func (e *Encoder) Encode(f *capture.VideoFrame, keyframe bool) (*capture.Sample, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil frame", capture.ErrBadFrame)
	}
	if f.Format != capture.FormatI420 {
		return nil, fmt.Errorf("%w: %v (convert to I420 first)", ErrFormat, f.Format)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return nil, ErrClosed
	}
	if e.enc == nil || f.Width != e.w || f.Height != e.h {
		if e.enc != nil {
			e.log.Debug("vp8: frame size changed, re-creating encoder",
				"from", fmt.Sprintf("%dx%d", e.w, e.h), "to", fmt.Sprintf("%dx%d", f.Width, f.Height))
		}
		if err := e.open(f.Width, f.Height); err != nil {
			return nil, err
		}
		keyframe = true
	}
	if kbps := bpsToKbps(int(e.target.Load())); kbps != e.enc.Params().BitrateKbps {
		e.log.Debug("vp8: bitrate changed", "kbps", kbps)
		if err := e.enc.SetBitrateKbps(kbps); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEncode, err)
		}
	}
	keyframe = keyframe || e.keyDue
	pts := e.pts(f.Time)
	ysz := f.Width * f.Height
	csz := ((f.Width + 1) / 2) * ((f.Height + 1) / 2)
	y, u, v := f.Data[:ysz], f.Data[ysz:ysz+csz], f.Data[ysz+csz:ysz+2*csz]
	data, key, err := e.enc.Encode(y, u, v, f.Width, (f.Width+1)/2, pts, uint64(e.nominal), keyframe)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	if data == nil {
		e.keyDue = keyframe
		return nil, nil
	}
	e.keyDue = false
	t := f.Time
	if t.IsZero() {
		t = time.Now()
	}
	return &capture.Sample{
		Data:     data,
		Duration: time.Second / time.Duration(e.cfg.FrameRate),
		Time:     t,
		Keyframe: key,
	}, nil
}

// Close releases libvpx. It is safe to call more than once; Encode and
// SetBitrate return ErrClosed afterwards.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed.Store(true)
	if e.enc != nil {
		err := e.enc.Close()
		e.enc = nil
		return err
	}
	return nil
}

// open (re)creates the libvpx encoder for w×h. Callers hold e.mu or own e
// exclusively.
func (e *Encoder) open(w, h int) error {
	if e.enc != nil {
		_ = e.enc.Close()
		e.enc = nil
	}
	kf := e.cfg.KeyframeInterval
	if e.cfg.NoAutoKeyframes {
		kf = 0 // libvpx: no automatic keyframes
	}
	enc, err := vpx.NewEncoder(vpx.EncoderParams{
		Width:              w,
		Height:             h,
		BitrateKbps:        bpsToKbps(int(e.target.Load())),
		MinQuantizer:       minQuantizer,
		MaxQuantizer:       maxQuantizer,
		Speed:              e.cfg.Speed,
		Threads:            e.cfg.Threads,
		KeyframeMaxDist:    kf,
		DropFrameThreshold: e.cfg.FrameDropThreshold,
		TimebaseDen:        timebase,
		MaxIntraBitratePct: maxIntraPct(e.cfg.FrameRate),
		NoiseSensitivity:   e.cfg.NoiseSensitivity,
	})
	if err != nil {
		return fmt.Errorf("%w: open %dx%d encoder: %w", ErrConfig, w, h, err)
	}
	e.enc, e.w, e.h = enc, w, h
	return nil
}

// pts returns a strictly increasing libvpx timestamp for a frame captured
// at t (zero: one nominal interval after the previous frame).
func (e *Encoder) pts(t time.Time) int64 {
	var p int64
	switch {
	case !e.started:
		p = 0
	case t.IsZero():
		p = e.lastPts + e.nominal
	case !e.anchored:
		p = e.lastPts + e.nominal
	default:
		p = e.anchorP + t.Sub(e.anchorT).Nanoseconds()*timebase/int64(time.Second)
	}
	if e.started && p <= e.lastPts {
		p = e.lastPts + 1
	}
	if t.IsZero() {
		e.anchored = false
	} else if !e.anchored {
		e.anchored, e.anchorT, e.anchorP = true, t, p
	}
	e.started, e.lastPts = true, p
	return p
}

// maxIntraPct caps a keyframe at a share of the per-frame budget, as
// libwebrtc does: half the optimal buffer (600 ms) worth of frames, in
// percent, and never below 300%.
func maxIntraPct(fps int) int {
	return max(600*fps/2/10, 300)
}

func bpsToKbps(bps int) int { return max((bps+500)/1000, 1) }
