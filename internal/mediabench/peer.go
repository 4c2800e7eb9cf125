package mediabench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/avlink/avlink/capture"
	capopus "github.com/avlink/avlink/capture/opus"
	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/internal/procstat"
	"github.com/avlink/avlink/playback"
	pbopus "github.com/avlink/avlink/playback/opus"
	pbvp8 "github.com/avlink/avlink/playback/vp8"
	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
)

// PeerResult is what one peer measured.
type PeerResult struct {
	Mode Mode `json:"mode"`
	// JoinStart is when a sender called wsclient.Dial, Dialled when Dial
	// returned, Connected when the peer connection reached "connected".
	JoinStart time.Time `json:"joinStart,omitzero"`
	Dialled   time.Time `json:"dialled,omitzero"`
	Connected time.Time `json:"connected,omitzero"`
	// First is when a receiver got its first frame (decoded, sample or
	// audio block); FirstStamp the capture time stamped on it.
	First      time.Time `json:"first,omitzero"`
	FirstStamp time.Time `json:"firstStamp,omitzero"`

	// PID is the process the peer ran in: CPU and Memory are that
	// process's own figures (getrusage and /proc/self/status).
	PID int `json:"pid"`
	// Window is the measurement window's real length, CPU the user and
	// system time the process spent in it.
	Window     time.Duration   `json:"window"`
	CPU        time.Duration   `json:"cpu"`
	CPUPercent float64         `json:"cpuPercent"`
	Memory     procstat.Memory `json:"memory"`
	// Stats is the session's figures at the end of the window; its rates
	// cover the window.
	Stats rtclink.Stats `json:"stats"`

	// LatencyMs holds, per frame of the window, the capture-to-decoded
	// latency (capture stamp to decoded frame at the sink; ReceiveDecode)
	// or the capture-to-last-packet time (ReceiveSamples), in
	// milliseconds.
	LatencyMs []float64 `json:"latencyMs,omitempty"`
	// Frames counts the frames of the window, Unreadable those whose
	// stamp could not be read (or, for samples, could not be decoded).
	Frames     int `json:"frames"`
	Unreadable int `json:"unreadable"`
	// Missing counts frames of the sender's pattern that never reached a
	// ReceiveDecode peer's sink, from the gaps in the frame counters
	// stamped on the frames, from its first frame to the end of the
	// window.
	Missing int `json:"missing"`
	// Clicks are the click times found: at the source by a sender, at
	// the sink by a receiver.
	Clicks []time.Time `json:"clicks,omitempty"`
	// PSNR holds one figure per decoded frame whose sent frame was still
	// in the FrameRing (in-process runs only).
	PSNR []PSNR `json:"-"`
}

// arrival is a complete encoded frame and when its last packet came.
type arrival struct {
	at   time.Time
	data []byte
}

// Peer is one running side of a measurement.
type Peer struct {
	cfg  PeerConfig
	sig  *wsclient.Client
	sess *rtclink.PeerSession
	res  PeerResult

	connected chan struct{}
	connOnce  sync.Once
	first     chan struct{}
	firstOnce sync.Once

	mu         sync.Mutex
	collecting bool
	lat        []float64
	psnr       []PSNR
	frames     int
	unreadable int
	missing    int
	lastN      uint16
	haveN      bool
	clicks     []time.Time
	arrivals   []arrival
	winStart   time.Time
	winEnd     time.Time
}

// StartPeer builds the peer's sources and codecs, joins the room and
// starts its session. A sender's join time is taken just before
// wsclient.Dial, with its camera and encoder already open.
func StartPeer(ctx context.Context, cfg PeerConfig) (*Peer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Peer{cfg: cfg, connected: make(chan struct{}), first: make(chan struct{})}
	p.res.Mode = cfg.Mode
	rc := rtclink.Config{
		IncludeLoopback:          true,
		DisableCongestionControl: true,
		Logger:                   cfg.Logger,
		OnState: func(s rtclink.State) {
			if s.String() == "connected" {
				p.connOnce.Do(func() {
					p.res.Connected = time.Now()
					close(p.connected)
				})
			}
		},
	}
	var cleanup []func() error
	fail := func(err error) (*Peer, error) {
		for _, c := range slices.Backward(cleanup) {
			_ = c()
		}
		return nil, err
	}
	switch cfg.Mode {
	case SendVideo:
		rc.Role = rtclink.Offerer
		src, err := synth.NewPattern(synth.PatternConfig{Width: cfg.Width, Height: cfg.Height, FPS: cfg.FPS})
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, src.Close)
		enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: cfg.Width, Height: cfg.Height,
			FrameRate: cfg.FPS, Bitrate: cfg.Bitrate, Logger: cfg.Logger})
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, enc.Close)
		var vs capture.VideoSource = src
		if cfg.Ring != nil {
			vs = ringSource{VideoSource: src, ring: cfg.Ring}
		}
		rc.Video = &rtclink.VideoSender{Source: vs, Encoder: enc,
			StartBitrate: cfg.Bitrate, MinBitrate: cfg.Bitrate, MaxBitrate: cfg.Bitrate}
	case SendAudio:
		rc.Role = rtclink.Offerer
		src, err := synth.NewClicks(synth.ClickConfig{Rate: capopus.SampleRate})
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, src.Close)
		enc, err := capopus.NewEncoder(capopus.EncoderConfig{Logger: cfg.Logger})
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, enc.Close)
		rc.Audio = &rtclink.AudioSender{Source: &clickTap{Clicks: src, p: p}, Encoder: enc}
	case ReceiveDecode:
		rc.ReceiveVideo = &rtclink.VideoReceiver{
			NewDecoder: func(capture.Codec) (playback.VideoDecoder, error) {
				return pbvp8.NewDecoder(pbvp8.DecoderConfig{ReuseFrames: cfg.ReuseFrames, Logger: cfg.Logger})
			},
			Sink: playback.VideoSinkFunc(p.writeVideo),
		}
	case ReceiveSamples:
		rc.ReceiveVideo = &rtclink.VideoReceiver{Sink: playback.SampleSinkFunc(p.writeSample)}
	case ReceiveAudio:
		rc.ReceiveAudio = &rtclink.AudioReceiver{
			NewDecoder: func(capture.Codec) (playback.AudioDecoder, error) {
				return pbopus.NewDecoder(pbopus.DecoderConfig{})
			},
			Sink: &clickSink{p: p},
		}
	default:
		return fail(fmt.Errorf("%w: mode %q is not a peer", ErrConfig, cfg.Mode))
	}

	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	p.res.JoinStart = time.Now()
	sig, err := wsclient.Dial(dctx, cfg.Signal, cfg.Room, &wsclient.DialOptions{Logger: cfg.Logger})
	if err != nil {
		return fail(fmt.Errorf("mediabench: join %s: %w", cfg.Signal, err))
	}
	p.res.Dialled = time.Now()
	cleanup = append(cleanup, sig.Close)
	rc.Signaler = sig
	sess, err := rtclink.New(rc)
	if err != nil {
		return fail(fmt.Errorf("mediabench: session: %w", err))
	}
	p.sig, p.sess = sig, sess
	return p, nil
}

// Close ends the session and leaves the room.
func (p *Peer) Close() error {
	return errors.Join(p.sess.Close(), p.sig.Close())
}

// Session returns the peer's session.
func (p *Peer) Session() *rtclink.PeerSession { return p.sess }

// WaitStarted waits until media flows: for a sender until the connection
// is up, for a receiver until its first frame.
func (p *Peer) WaitStarted(ctx context.Context) error {
	ch, what := p.first, "first frame"
	if p.cfg.Mode.IsSender() {
		ch, what = p.connected, "connection"
	}
	t := time.NewTimer(p.cfg.Timeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return fmt.Errorf("%w: no %s after %v (%s)", ErrTimeout, what, p.cfg.Timeout, p.cfg.Mode)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Measure waits for media to flow, lets it settle for the warm-up, then
// measures over the window and returns what it found.
func (p *Peer) Measure(ctx context.Context) (PeerResult, error) {
	if err := p.WaitStarted(ctx); err != nil {
		return PeerResult{}, err
	}
	if err := sleep(ctx, p.cfg.Warmup); err != nil {
		return PeerResult{}, err
	}
	if p.cfg.CPUProfile != "" {
		f, err := os.Create(p.cfg.CPUProfile)
		if err != nil {
			return PeerResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return PeerResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	p.sess.Stats() // rates from here on cover the window
	// CPU and memory are this process's own: this peer's alone when it
	// runs in a child process.
	cpu0, err := processCPU()
	if err != nil {
		return PeerResult{}, err
	}
	p.mu.Lock()
	p.collecting, p.winStart = true, time.Now()
	p.mu.Unlock()

	werr := sleep(ctx, p.cfg.Window)

	cpu1, err := processCPU()
	p.mu.Lock()
	p.collecting, p.winEnd = false, time.Now()
	r := p.res
	r.Window = p.winEnd.Sub(p.winStart)
	r.LatencyMs, r.PSNR, r.Clicks = p.lat, p.psnr, p.clicks
	r.Frames, r.Unreadable, r.Missing = p.frames, p.unreadable, p.missing
	arrivals := p.arrivals
	p.mu.Unlock()
	// Taken once the window is closed, so the session's counts include
	// every frame counted in the window.
	st := p.sess.Stats()
	if werr != nil {
		return PeerResult{}, werr
	}
	if err != nil {
		return PeerResult{}, err
	}
	r.Stats = st
	r.PID = os.Getpid()
	r.CPU = cpu1 - cpu0
	r.CPUPercent = 100 * float64(r.CPU) / float64(r.Window)
	if r.Memory, err = procstat.ReadMemory(0); err != nil {
		return PeerResult{}, err
	}
	if p.cfg.Mode == ReceiveSamples {
		r.LatencyMs, r.Frames, r.Unreadable = p.decodeArrivals(arrivals)
	}
	return r, nil
}

// processCPU returns the user and system time this process has used, to
// the microsecond. /proc/self/stat counts it in 10 ms ticks, too coarse
// for a receiver that spends a few tens of milliseconds a second.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("mediabench: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writeVideo is a ReceiveDecode peer's sink: it reads the stamp of each
// decoded frame the moment the session hands it over.
func (p *Peer) writeVideo(f *capture.VideoFrame) error {
	now := time.Now()
	t, n, err := stamp.Read(f)
	p.firstOnce.Do(func() {
		p.res.First = now
		if err == nil {
			p.res.FirstStamp = t
		}
		close(p.first)
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.winEnd.IsZero() { // gaps after the window do not count
		if d := int16(n - p.lastN); p.haveN && d > 1 {
			p.missing += int(d) - 1
		}
		p.lastN, p.haveN = n, true
	}
	if !p.collecting {
		return nil
	}
	p.frames++
	if err != nil {
		p.unreadable++
		return nil
	}
	p.lat = append(p.lat, Ms(now.Sub(t)))
	if p.cfg.Ring != nil {
		if ref := p.cfg.Ring.Get(n); ref != nil {
			if ps, err := ComparePSNR(ref, f); err == nil {
				p.psnr = append(p.psnr, ps)
			}
		}
	}
	return nil
}

// writeSample is a ReceiveSamples peer's sink. The session sets the
// sample's Time to when the packet that completed the frame was read.
// Frames are kept from the start (the decoder needs the keyframe) and
// decoded after the window.
func (p *Peer) writeSample(_ capture.Codec, s *capture.Sample) error {
	p.firstOnce.Do(func() {
		p.res.First = s.Time
		close(p.first)
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.winEnd.IsZero() {
		p.arrivals = append(p.arrivals, arrival{at: s.Time, data: slices.Clone(s.Data)})
	}
	return nil
}

// decodeArrivals decodes the kept frames in order and returns, for those
// whose last packet arrived within the window, the time from the stamp
// to that arrival.
func (p *Peer) decodeArrivals(arr []arrival) (lat []float64, frames, unreadable int) {
	dec, err := pbvp8.NewDecoder(pbvp8.DecoderConfig{ReuseFrames: true, Logger: p.cfg.Logger})
	if err != nil {
		return nil, len(arr), len(arr)
	}
	defer dec.Close()
	for _, a := range arr {
		img, err := dec.Decode(a.data)
		in := !a.at.Before(p.winStart) && a.at.Before(p.winEnd)
		if !in {
			continue
		}
		frames++
		if err != nil || img == nil {
			unreadable++
			continue
		}
		t, _, err := stamp.Read(img)
		if err != nil {
			unreadable++
			continue
		}
		lat = append(lat, Ms(a.at.Sub(t)))
	}
	return lat, frames, unreadable
}

// clickTap passes a Clicks source on and notes when each click was
// captured.
type clickTap struct {
	*synth.Clicks
	p   *Peer
	det synth.ClickDetector
}

func (c *clickTap) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) {
	f, err := c.Clicks.ReadAudio(ctx)
	if err != nil {
		return nil, err
	}
	if ts := c.det.Detect(f); len(ts) > 0 {
		c.p.mu.Lock()
		c.p.clicks = append(c.p.clicks, ts...)
		c.p.mu.Unlock()
	}
	return f, nil
}

// clickSink finds the clicks in the decoded audio. The session stamps
// each decoded block with the time it arrived, so a click's time is when
// it would sound if playback started on arrival.
type clickSink struct {
	p   *Peer
	det synth.ClickDetector
}

func (c *clickSink) WriteAudio(f *capture.AudioFrame) error {
	c.p.firstOnce.Do(func() {
		c.p.res.First = f.Time
		close(c.p.first)
	})
	ts := c.det.Detect(f)
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.collecting {
		c.p.frames++
		c.p.clicks = append(c.p.clicks, ts...)
	}
	return nil
}

func (c *clickSink) Close() error { return nil }
