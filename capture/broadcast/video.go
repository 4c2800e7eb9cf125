package broadcast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mailbox"
)

// Video encodes one video source once and hands every encoded sample to
// any number of readers, one per viewer. See the package documentation.
//
// Two goroutines, started with the first reader, do the work: one reads
// frames from the source into a one-frame mailbox, where a newer frame
// replaces one the encoder has not taken (so latency does not grow when
// encoding falls behind), and one encodes the newest frame and queues the
// sample on every reader. Both wait, reading and encoding nothing, while
// there is no reader.
type Video struct {
	cfg      VideoConfig
	log      *slog.Logger
	codec    capture.Codec
	recycler capture.VideoRecycler
	g        *group
	box      *mailbox.Box[*capture.VideoFrame]

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	srcDone chan struct{} // closed when the source has ended; srcErr is set
	srcErr  error

	keyReq atomic.Uint64 // keyframe requests so far
	target atomic.Int64  // bitrate the readers' reports ask for

	closeOnce sync.Once
	closeErr  error

	// Owned by the encoding goroutine.
	warm      bool      // the encoder has seen a frame
	keyServed uint64    // keyReq value the last keyframe answered
	lastKey   time.Time // capture time of the last keyframe
	applied   int       // bitrate last given to the encoder
	i420      capture.VideoFrame
	lastErr   time.Time

	captured, stale, encoded, samples, keyframes, requests, errs atomic.Uint64
	bitrate                                                      atomic.Int64
}

// NewVideo returns a Video for cfg. It sets the encoder to
// cfg.StartBitrate; nothing is read or encoded before the first
// NewReader.
func NewVideo(cfg VideoConfig) (*Video, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := c.Encoder.SetBitrate(c.StartBitrate); err != nil {
		return nil, fmt.Errorf("%w: encoder bitrate: %w", ErrConfig, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &Video{cfg: c, log: c.Logger, codec: c.Encoder.Codec(), g: newGroup(), box: mailbox.New[*capture.VideoFrame](),
		ctx: ctx, cancel: cancel, srcDone: make(chan struct{}), applied: c.StartBitrate}
	v.recycler, _ = c.Source.(capture.VideoRecycler)
	v.target.Store(int64(c.StartBitrate))
	v.bitrate.Store(int64(c.StartBitrate))
	return v, nil
}

// Codec describes the encoded samples, for SDP: the encoder's codec.
func (v *Video) Codec() capture.Codec { return v.codec }

// NewReader attaches a new reader. Its first sample is a keyframe: it
// asks for one and skips the frames before it. It returns [ErrClosed]
// after Close. After the source has ended, the reader returns the
// source's error at once.
func (v *Video) NewReader() (*VideoReader, error) {
	t := newTap(v.cfg.Queue, true)
	// Asked before the reader is added, so that the frame that starts
	// the encoder for the first reader answers it.
	v.requestKeyframe()
	if err := v.g.add(t, v.start); err != nil {
		return nil, err
	}
	return &VideoReader{v: v, t: t}, nil
}

// Close stops encoding, closes the source and the encoder and ends every
// reader: each returns the samples it still holds, then io.EOF. It
// returns the source's and encoder's Close errors, to every call.
func (v *Video) Close() error {
	v.closeOnce.Do(func() {
		v.g.markClosed()
		v.cancel()
		// The source first, so that a read blocked in it returns.
		srcErr := v.cfg.Source.Close()
		v.wg.Wait()
		v.g.finish(io.EOF)
		if f, ok := v.box.Take(); ok {
			v.recycle(f)
		}
		v.closeErr = errors.Join(srcErr, v.cfg.Encoder.Close())
	})
	return v.closeErr
}

// Stats returns the counters of the broadcast.
func (v *Video) Stats() VideoStats {
	return VideoStats{
		Readers:          v.g.count(),
		Captured:         v.captured.Load(),
		Stale:            v.stale.Load(),
		Encoded:          v.encoded.Load(),
		Samples:          v.samples.Load(),
		Keyframes:        v.keyframes.Load(),
		KeyframeRequests: v.requests.Load(),
		Errors:           v.errs.Load(),
		Bitrate:          int(v.bitrate.Load()),
	}
}

// start runs the goroutines; called once, with the first reader.
func (v *Video) start() {
	v.wg.Add(2)
	go v.readLoop()
	go v.encodeLoop()
}

// requestKeyframe makes the next frame that the rate limit allows a
// keyframe. It never blocks.
func (v *Video) requestKeyframe() {
	v.requests.Add(1)
	v.keyReq.Add(1)
}

func (v *Video) recycle(f *capture.VideoFrame) {
	if v.recycler != nil && f != nil {
		v.recycler.RecycleVideo(f)
	}
}

func (v *Video) readLoop() {
	defer v.wg.Done()
	paused := false
	for {
		if v.g.count() == 0 && !paused {
			paused = true
			v.log.Debug("broadcast: no readers, video paused")
		}
		if !v.g.wait(v.ctx) {
			return
		}
		if paused {
			paused = false
			v.log.Debug("broadcast: video resumed")
		}
		f, err := v.cfg.Source.ReadVideo(v.ctx)
		if err != nil {
			if v.ctx.Err() != nil {
				return
			}
			v.srcErr = err
			close(v.srcDone)
			return
		}
		if f == nil {
			continue
		}
		v.captured.Add(1)
		if f.Time.IsZero() {
			f.Time = time.Now()
		}
		if old, replaced := v.box.Put(f); replaced {
			v.stale.Add(1)
			v.recycle(old)
		}
	}
}

func (v *Video) encodeLoop() {
	defer v.wg.Done()
	var taps []*tap
	for {
		select {
		case <-v.box.Notify:
		case <-v.srcDone:
			// Encode the last frame, then pass the source's end on.
			if f, ok := v.box.Take(); ok {
				taps = v.encode(f, taps)
				v.recycle(f)
			}
			if errors.Is(v.srcErr, io.EOF) {
				v.log.Debug("broadcast: video source ended")
			} else {
				v.log.Error("broadcast: video source failed", "err", v.srcErr)
			}
			v.g.finish(v.srcErr)
			return
		case <-v.ctx.Done():
			return
		}
		f, ok := v.box.Take()
		if !ok {
			continue
		}
		taps = v.encode(f, taps)
		v.recycle(f)
	}
}

// encode converts and encodes f and queues the sample on every reader.
// It encodes nothing when there is no reader. taps is scratch space,
// returned for reuse.
func (v *Video) encode(f *capture.VideoFrame, taps []*tap) []*tap {
	taps = v.g.snapshot(taps)
	if len(taps) == 0 {
		return taps
	}
	src := f
	if f.Format != capture.FormatI420 {
		if err := capture.ToI420(&v.i420, f); err != nil {
			v.fail("broadcast: cannot convert video frame", err)
			return taps
		}
		f = &v.i420
	}
	if t := int(v.target.Load()); t != v.applied {
		if err := v.cfg.Encoder.SetBitrate(t); err != nil {
			v.fail("broadcast: cannot set video bitrate", err)
		} else {
			v.applied = t
			v.bitrate.Store(int64(t))
		}
	}
	if !v.warm {
		// libvpx spends tens of milliseconds over its first frame; the
		// frames captured meanwhile would be replaced unencoded and
		// leave a gap right after the readers' first keyframe. So the
		// first frame only warms the encoder up, and the stream starts
		// at the next one, a keyframe.
		v.warm = true
		v.encoded.Add(1)
		if _, err := v.cfg.Encoder.Encode(f, true); err != nil {
			v.fail("broadcast: video encode failed", err)
		}
		return taps
	}
	req := v.keyReq.Load()
	force := false
	if req != v.keyServed {
		d := src.Time.Sub(v.lastKey)
		force = v.lastKey.IsZero() || d >= v.cfg.KeyframeInterval || d < 0
	}
	smp, err := v.cfg.Encoder.Encode(f, force)
	v.encoded.Add(1)
	if err != nil {
		v.fail("broadcast: video encode failed", err)
		return taps
	}
	if smp == nil {
		return taps
	}
	if smp.Time.IsZero() {
		smp.Time = src.Time
	}
	if smp.Keyframe {
		v.keyframes.Add(1)
		v.keyServed = req
		v.lastKey = src.Time
	}
	v.samples.Add(1)
	for _, t := range taps {
		if t.pushVideo(smp) {
			v.log.Debug("broadcast: video reader fell behind, waiting for a keyframe")
			v.requestKeyframe()
		}
	}
	return taps
}

// fail counts a frame lost to err and logs it, at most every 5 s.
func (v *Video) fail(msg string, err error) {
	v.errs.Add(1)
	if time.Since(v.lastErr) > 5*time.Second {
		v.log.Error(msg, "err", err)
		v.lastErr = time.Now()
	}
}

// retarget sets the encoder's target from the readers' reports: the
// lowest, within [MinBitrate, MaxBitrate], or StartBitrate when no reader
// has reported.
func (v *Video) retarget() {
	v.g.mu.Lock()
	defer v.g.mu.Unlock()
	lo := 0
	for _, t := range v.g.taps {
		if t.report > 0 && (lo == 0 || t.report < lo) {
			lo = t.report
		}
	}
	bps := v.cfg.StartBitrate
	if lo > 0 {
		bps = min(max(lo, v.cfg.MinBitrate), v.cfg.MaxBitrate)
	}
	v.target.Store(int64(bps))
}
