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
)

// Audio encodes one audio source once and hands every encoded packet to
// any number of readers, one per viewer. See the package documentation.
//
// One goroutine, started with the first reader, reads PCM from the
// source, re-frames it with a [capture.Reframer] to the encoder's rate,
// channels and frame size, encodes each frame and queues the packet on
// every reader. It waits, reading nothing, while there is no reader.
type Audio struct {
	cfg   AudioConfig
	log   *slog.Logger
	codec capture.Codec
	queue int
	rf    *capture.Reframer
	g     *group

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	lastErr time.Time // owned by the goroutine
	taps    []*tap

	blocks, encoded, samples, errs atomic.Uint64
}

// NewAudio returns an Audio for cfg. Nothing is read or encoded before
// the first NewReader.
func NewAudio(cfg AudioConfig) (*Audio, error) {
	c, n, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rf, err := capture.NewReframer(capture.ReframerConfig{
		Rate: c.Encoder.Rate(), Channels: c.Encoder.Channels(), FrameSize: c.Encoder.FrameSize(),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Audio{cfg: c, log: c.Logger, codec: c.Encoder.Codec(), queue: n, rf: rf, g: newGroup(),
		ctx: ctx, cancel: cancel}, nil
}

// Codec describes the encoded packets, for SDP: the encoder's codec.
func (a *Audio) Codec() capture.Codec { return a.codec }

// NewReader attaches a new reader, which receives every packet encoded
// from now on. It returns [ErrClosed] after Close. After the source has
// ended, the reader returns the source's error at once.
func (a *Audio) NewReader() (*AudioReader, error) {
	t := newTap(a.queue, false)
	if err := a.g.add(t, a.start); err != nil {
		return nil, err
	}
	return &AudioReader{a: a, t: t}, nil
}

// Close stops encoding, closes the source and the encoder and ends every
// reader: each returns the packets it still holds, then io.EOF. It
// returns the source's and encoder's Close errors, to every call.
func (a *Audio) Close() error {
	a.closeOnce.Do(func() {
		a.g.markClosed()
		a.cancel()
		// The source first, so that a read blocked in it returns.
		srcErr := a.cfg.Source.Close()
		a.wg.Wait()
		a.g.finish(io.EOF)
		a.closeErr = errors.Join(srcErr, a.cfg.Encoder.Close())
	})
	return a.closeErr
}

// Stats returns the counters of the broadcast.
func (a *Audio) Stats() AudioStats {
	return AudioStats{
		Readers: a.g.count(),
		Blocks:  a.blocks.Load(),
		Encoded: a.encoded.Load(),
		Samples: a.samples.Load(),
		Errors:  a.errs.Load(),
	}
}

func (a *Audio) start() {
	a.wg.Add(1)
	go a.loop()
}

func (a *Audio) loop() {
	defer a.wg.Done()
	for {
		if !a.g.wait(a.ctx) {
			return
		}
		f, err := a.cfg.Source.ReadAudio(a.ctx)
		if err != nil {
			if a.ctx.Err() != nil {
				return
			}
			for _, fr := range a.rf.Flush() {
				a.encode(fr)
			}
			if errors.Is(err, io.EOF) {
				a.log.Debug("broadcast: audio source ended")
			} else {
				a.log.Error("broadcast: audio source failed", "err", err)
			}
			a.g.finish(err)
			return
		}
		if f == nil {
			continue
		}
		a.blocks.Add(1)
		frames, err := a.rf.Push(f)
		if err != nil {
			a.fail("broadcast: bad audio block", err)
			continue
		}
		for _, fr := range frames {
			a.encode(fr)
		}
	}
}

// encode encodes one frame and queues the packet on every reader; with
// no reader it encodes nothing.
func (a *Audio) encode(fr *capture.AudioFrame) {
	a.taps = a.g.snapshot(a.taps)
	if len(a.taps) == 0 {
		return
	}
	smp, err := a.cfg.Encoder.Encode(fr)
	a.encoded.Add(1)
	if err != nil {
		a.fail("broadcast: audio encode failed", err)
		return
	}
	if smp == nil {
		return
	}
	if smp.Time.IsZero() {
		smp.Time = fr.Time
	}
	a.samples.Add(1)
	for _, t := range a.taps {
		t.pushAudio(smp)
	}
}

// fail counts a block or frame lost to err and logs it, at most every 5 s.
func (a *Audio) fail(msg string, err error) {
	a.errs.Add(1)
	if time.Since(a.lastErr) > 5*time.Second {
		a.log.Error(msg, "err", err)
		a.lastErr = time.Now()
	}
}

var _ capture.SampleSource = (*AudioReader)(nil)

// AudioReader is one viewer's share of an [Audio]: a
// [capture.SampleSource] to give to that viewer's rtclink AudioSender as
// Samples.
//
// Every reader is given the same *capture.Sample: treat samples as
// read-only. A reader holds at most AudioConfig.Queue of audio; one
// further behind loses the oldest packets, counted in Stats, and never
// holds up the encoder or the other readers.
type AudioReader struct {
	a *Audio
	t *tap
}

// Codec describes the packets, for SDP.
func (r *AudioReader) Codec() capture.Codec { return r.a.codec }

// ReadSample returns the oldest packet this reader has not had, waiting
// for the next one if there is none. It returns ctx.Err() when ctx is
// done, which does not affect the reader; once the broadcast has ended
// and the queue is drained, io.EOF (after Audio.Close or at the end of
// the source) or the source's error; and [ErrClosed] after the reader's
// Close. ReadSample is used from one goroutine at a time.
func (r *AudioReader) ReadSample(ctx context.Context) (*capture.Sample, error) {
	return r.t.read(ctx)
}

// Close detaches the reader: a blocked ReadSample returns [ErrClosed],
// and reading pauses when it was the last reader. It does not close the
// Audio. It always returns nil and may be called more than once.
func (r *AudioReader) Close() error {
	r.t.close()
	r.a.g.remove(r.t)
	return nil
}

// Stats returns the reader's counters.
func (r *AudioReader) Stats() ReaderStats { return r.t.stats() }
