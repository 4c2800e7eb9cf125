package rtclink

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/mailbox"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// streamID is shared by every track of a session, so a browser puts audio
// and video in one MediaStream (event.streams[0] then has both).
const streamID = "avlink"

// rtpMTU leaves room for SRTP, TURN and header extensions within 1280.
const rtpMTU = 1200

// sendTrack packetizes encoded samples with RTP timestamps taken from
// their capture times, so timing survives dropped frames exactly.
type sendTrack struct {
	track     *webrtc.TrackLocalStaticRTP
	kind      webrtc.RTPCodecType
	pk        rtp.Packetizer
	clockRate uint32
	onPLI     func()

	mu      sync.Mutex
	t0      time.Time
	ts0     uint32
	lastTS  uint32
	frames  atomic.Int64
	bytes   atomic.Int64
	packets atomic.Int64
}

func newSendTrack(c capture.Codec, kind webrtc.RTPCodecType, id string) (*sendTrack, error) {
	var pay rtp.Payloader
	switch strings.ToLower(c.MimeType) {
	case "video/vp8":
		pay = &codecs.VP8Payloader{EnablePictureID: true}
	case "video/h264":
		pay = &codecs.H264Payloader{}
	case "audio/opus":
		pay = &codecs.OpusPayloader{}
	default:
		return nil, fmt.Errorf("%w: no packetizer for %s", ErrConfig, c.MimeType)
	}
	if c.ClockRate == 0 {
		return nil, fmt.Errorf("%w: codec %s has no clock rate", ErrConfig, c.MimeType)
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(rtpCapability(c, nil), id, streamID)
	if err != nil {
		return nil, err
	}
	seq := rtp.NewRandomSequencer()
	return &sendTrack{
		track: tr, kind: kind, clockRate: c.ClockRate,
		// Payload type and SSRC are filled in per peer connection by the
		// track's binding.
		pk: rtp.NewPacketizer(rtpMTU, 0, 0, pay, seq, c.ClockRate),
	}, nil
}

// write sends one encoded frame captured at t.
func (t *sendTrack) write(data []byte, at time.Time) error {
	t.mu.Lock()
	if t.t0.IsZero() {
		t.t0 = at
		t.ts0 = uint32(time.Now().UnixNano())
		t.lastTS = t.ts0 - 1
	}
	ts := t.ts0 + uint32(at.Sub(t.t0).Seconds()*float64(t.clockRate))
	if int32(ts-t.lastTS) <= 0 {
		ts = t.lastTS + 1 // capture clocks that stall must not run RTP time backwards
	}
	t.lastTS = ts
	pkts := t.pk.Packetize(data, 0)
	t.mu.Unlock()
	for _, p := range pkts {
		p.Timestamp = ts
		if err := t.track.WriteRTP(p); err != nil {
			return err
		}
	}
	t.frames.Add(1)
	t.bytes.Add(int64(len(data)))
	t.packets.Add(int64(len(pkts)))
	return nil
}

// videoFor returns the video send of tr, or nil.
func (s *PeerSession) videoFor(tr *sendTrack) *videoSend {
	for _, v := range s.videos {
		if v.tr == tr {
			return v
		}
	}
	return nil
}

func (s *PeerSession) audioTrack() *sendTrack {
	if s.audio == nil {
		return nil
	}
	return s.audio.tr
}

func (s *PeerSession) makeSenders() error {
	for _, v := range s.cfg.videoSenders() {
		vs, err := s.newVideoSend(v)
		if err != nil {
			return err
		}
		s.videos = append(s.videos, vs)
	}
	if a := s.cfg.Audio; a != nil {
		as, err := s.newAudioSend(a)
		if err != nil {
			return err
		}
		s.audio = as
	}
	return nil
}

func (s *PeerSession) newVideoSend(v *VideoSender) (*videoSend, error) {
	tr, err := newSendTrack(v.codec(), webrtc.RTPCodecTypeVideo, v.name())
	if err != nil {
		return nil, err
	}
	vs := &videoSend{s: s, cfg: v, enc: v.Encoder, tr: tr, box: mailbox.New[*capture.VideoFrame](), wake: make(chan struct{}, 1)}
	vs.recycler, _ = v.Source.(capture.VideoRecycler)
	tr.onPLI = vs.onPLI
	if v.Encoder != nil && v.Samples == nil {
		_, _, start := v.bitrates()
		if err := v.Encoder.SetBitrate(start); err != nil {
			return nil, fmt.Errorf("rtclink: video encoder: %w", err)
		}
		vs.applied = start
		vs.target.Store(int64(start))
	}
	return vs, nil
}

func (s *PeerSession) newAudioSend(a *AudioSender) (*audioSend, error) {
	tr, err := newSendTrack(a.codec(), webrtc.RTPCodecTypeAudio, "audio")
	if err != nil {
		return nil, err
	}
	as := &audioSend{s: s, cfg: a, tr: tr}
	if a.Samples == nil {
		rf, err := capture.NewReframer(capture.ReframerConfig{
			Rate: a.Encoder.Rate(), Channels: a.Encoder.Channels(), FrameSize: a.Encoder.FrameSize(),
		})
		if err != nil {
			return nil, fmt.Errorf("rtclink: audio encoder format: %w", err)
		}
		as.rf = rf
	}
	return as, nil
}

func (s *PeerSession) startSenders() {
	for _, v := range s.videos {
		v.start()
	}
	if s.audio != nil {
		s.audio.start()
	}
}

func (v *videoSend) start() {
	s := v.s
	if v.cfg.Samples != nil {
		s.wg.Add(1)
		go s.pumpSamples(v.cfg.Samples, v.tr, &v.sending, "video")
		return
	}
	s.wg.Add(2)
	go v.readLoop()
	go v.encodeLoop()
}

func (a *audioSend) start() {
	s := a.s
	s.wg.Add(1)
	if a.cfg.Samples != nil {
		go s.pumpSamples(a.cfg.Samples, a.tr, &a.sending, "audio")
		return
	}
	go a.loop()
}

// pumpSamples forwards pre-encoded samples untouched.
func (s *PeerSession) pumpSamples(src capture.SampleSource, tr *sendTrack, sending *atomic.Bool, kind string) {
	defer s.wg.Done()
	for {
		smp, err := src.ReadSample(s.ctx)
		if err != nil {
			s.sourceEnded(kind, err)
			return
		}
		if !sending.Load() {
			continue
		}
		at := smp.Time
		if at.IsZero() {
			at = time.Now()
		}
		if err := tr.write(smp.Data, at); err != nil {
			s.log.Debug("rtclink: write sample", "kind", kind, "err", err)
		}
	}
}

func (s *PeerSession) sourceEnded(kind string, err error) {
	switch {
	case s.ctx.Err() != nil:
	case isEOF(err):
		s.log.Info("rtclink: source ended", "kind", kind)
	default:
		s.log.Error("rtclink: source failed", "kind", kind, "err", err)
	}
}

// videoSend reads raw frames on one goroutine and encodes on another,
// with a one-frame mailbox between them: when encoding falls behind, the
// stale frame is replaced, so latency never grows.
type videoSend struct {
	s       *PeerSession
	cfg     *VideoSender
	enc     capture.VideoEncoder
	tr      *sendTrack
	box     *mailbox.Box[*capture.VideoFrame]
	wake    chan struct{} // the encode loop has more to do than the box says
	sending atomic.Bool
	calls   atomic.Int64 // connections that started sending, for the encode loop
	readyAt atomic.Int64 // unix nanos since a call is connecting (have its first keyframe made); 0 when none is
	kf      atomic.Bool
	lastPLI atomic.Int64 // unix nanos of the last keyframe granted to a PLI
	target  atomic.Int64
	applied int
	warm    bool // the encoder has seen a frame
	i420    capture.VideoFrame
	// recycler takes back frames the session is done with, when the
	// source can reuse them.
	recycler capture.VideoRecycler

	// The encode loop's own.
	call    int64               // the last of calls it started
	held    *capture.VideoFrame // the newest frame while nothing is sent
	ahead   []byte              // a keyframe made while a call connects
	aheadAt time.Time           // the capture time of ahead's frame
}

// recycle hands a frame the session holds no reference to back to its
// source.
func (v *videoSend) recycle(f *capture.VideoFrame) {
	if v.recycler != nil && f != nil {
		v.recycler.RecycleVideo(f)
	}
}

// requestKeyframe asks the encoder, or a pre-encoded source that can,
// for a keyframe.
func (v *videoSend) requestKeyframe() {
	v.kf.Store(true)
	if ks, ok := v.cfg.Samples.(capture.KeyframeSource); ok {
		ks.RequestKeyframe()
	}
}

// maxHeldAge bounds how old a frame held from before the connection, or
// the keyframe made from one, may be and still be sent as its first
// picture.
const maxHeldAge = 200 * time.Millisecond

// While a call connects, its first keyframe is made again from each newer
// frame for the first eagerAhead, so that the picture the peer first sees
// is the newest and the next follows it without a gap; a connection that
// takes longer than that gets a new one only every aheadRefresh, which
// bounds the cost of a connection that never comes up to one keyframe
// encode per 100 ms, and the first picture's age to that (plus a frame
// interval).
const (
	eagerAhead   = 200 * time.Millisecond
	aheadRefresh = 100 * time.Millisecond
)

// connected starts the picture afresh on a connection that came up: the
// encode loop sends the keyframe made while it connected, or makes one
// from the frame held back, so the peer need not wait for the next
// capture or for an encode.
func (v *videoSend) connected() {
	if v.cfg.Samples != nil || v.sending.Load() {
		// A pre-encoded source, or the same call back after a drop.
		v.sending.Store(true)
		v.requestKeyframe()
		return
	}
	// calls before sending: whenever the loop sees sending, it sees the
	// new call too, and never encodes a frame of it before its keyframe.
	v.calls.Add(1)
	v.sending.Store(true)
	v.wakeUp()
}

// connecting tells v whether a call is being set up, so that its first
// keyframe is encoded while the connection is made rather than after.
func (v *videoSend) connecting(on bool) {
	if v.cfg.Samples != nil {
		return
	}
	if !on {
		v.readyAt.Store(0)
		return
	}
	v.readyAt.CompareAndSwap(0, time.Now().UnixNano())
	v.wakeUp()
}

func (v *videoSend) wakeUp() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// onPLI grants at most one keyframe per 250 ms: a peer that keeps
// asking during loss must not turn the stream into keyframes only.
func (v *videoSend) onPLI() {
	now := time.Now().UnixNano()
	last := v.lastPLI.Load()
	if now-last < int64(250*time.Millisecond) || !v.lastPLI.CompareAndSwap(last, now) {
		return
	}
	v.s.stats.videoOut.keyframesOnPLI.Add(1)
	v.requestKeyframe()
}

func (v *videoSend) readLoop() {
	defer v.s.wg.Done()
	for {
		f, err := v.cfg.Source.ReadVideo(v.s.ctx)
		if err != nil {
			v.s.sourceEnded("video", err)
			return
		}
		if f.Time.IsZero() {
			f.Time = time.Now()
		}
		if old, replaced := v.box.Put(f); replaced {
			v.s.stats.videoOut.stale.Add(1)
			v.s.log.Debug("rtclink: video frame dropped: the encoder was still busy with the one before", "captured", old.Time)
			v.recycle(old)
		}
	}
}

func (v *videoSend) encodeLoop() {
	defer v.s.wg.Done()
	var lastErr time.Time
	for {
		select {
		case <-v.box.Notify:
		case <-v.wake:
		case <-v.s.ctx.Done():
			v.recycle(v.held)
			return
		}
		sending := v.sending.Load()
		if c := v.calls.Load(); sending && c != v.call {
			v.call = c
			v.startCall(&lastErr)
		}
		f, ok := v.box.Take()
		if !sending {
			if ok {
				v.warmUp(f, &lastErr)
				// Keep the newest: it becomes the first keyframe of the
				// next call.
				v.recycle(v.held)
				v.held = f
			}
			v.makeAhead(&lastErr)
			continue
		}
		if ok {
			v.encode(f, &lastErr)
			v.recycle(f)
		}
	}
}

// makeAhead encodes the held frame as the keyframe a connecting call will
// start with, when there is none or it has grown old.
func (v *videoSend) makeAhead(lastErr *time.Time) {
	since := v.readyAt.Load()
	if since == 0 || v.held == nil {
		return
	}
	refresh := aheadRefresh
	if time.Since(time.Unix(0, since)) < eagerAhead {
		refresh = 0
	}
	if len(v.ahead) > 0 && time.Since(v.aheadAt) < refresh {
		return
	}
	f := v.held
	v.held = nil
	defer v.recycle(f)
	if !f.Time.After(v.aheadAt) {
		return
	}
	smp := v.encodeOnly(f, true, lastErr)
	if smp == nil {
		return
	}
	v.ahead = append(v.ahead[:0], smp.Data...)
	v.aheadAt = f.Time
	v.s.log.Debug("rtclink: first keyframe made while the call connects", "captured", f.Time, "bytes", len(smp.Data))
}

// startCall sends a new call its first picture: the keyframe made while it
// connected, then the frame held back since if there is one, or else a
// keyframe from the held frame if it is recent.
func (v *videoSend) startCall(lastErr *time.Time) {
	f := v.held
	v.held = nil
	defer v.recycle(f)
	fresh := func(t time.Time) bool { return time.Since(t) < maxHeldAge }
	if len(v.ahead) > 0 && fresh(v.aheadAt) {
		v.send(v.ahead, v.aheadAt)
		v.ahead = v.ahead[:0]
		if f != nil && f.Time.After(v.aheadAt) {
			v.encode(f, lastErr)
		}
		return
	}
	v.ahead = v.ahead[:0]
	v.kf.Store(true)
	if f != nil && fresh(f.Time) {
		v.encode(f, lastErr)
	}
}

// warmUp encodes the first frame captured before a connection and drops
// the result: an encoder sets itself up on its first frame (libvpx takes
// four times as long over it as over a keyframe), which would otherwise
// hold up the first picture a viewer sees. An encoder already set up for
// the frame's size ([capture.PreparedEncoder]) is left alone.
func (v *videoSend) warmUp(f *capture.VideoFrame, lastErr *time.Time) {
	if v.warm {
		return
	}
	v.warm = true
	if p, ok := v.enc.(capture.PreparedEncoder); ok && p.Prepared(f.Width, f.Height) {
		return
	}
	if f = v.toI420(f, lastErr); f == nil {
		return
	}
	start := time.Now()
	_, err := v.enc.Encode(f, true)
	v.s.log.Debug("rtclink: video encoder warmed up", "took", time.Since(start), "err", err)
}

// toI420 returns f in I420, converting it into v.i420 when needed, or nil
// when it cannot be converted.
func (v *videoSend) toI420(f *capture.VideoFrame, lastErr *time.Time) *capture.VideoFrame {
	if f.Format == capture.FormatI420 {
		return f
	}
	if err := capture.ToI420(&v.i420, f); err != nil {
		if time.Since(*lastErr) > 5*time.Second {
			v.s.log.Error("rtclink: cannot convert video frame", "err", err)
			*lastErr = time.Now()
		}
		return nil
	}
	return &v.i420
}

// encode converts, encodes and sends one frame.
func (v *videoSend) encode(f *capture.VideoFrame, lastErr *time.Time) {
	smp := v.encodeOnly(f, v.kf.Swap(false), lastErr)
	if smp != nil {
		v.send(smp.Data, f.Time)
	}
}

// encodeOnly converts and encodes one frame, or returns nil.
func (v *videoSend) encodeOnly(f *capture.VideoFrame, keyframe bool, lastErr *time.Time) *capture.Sample {
	if f = v.toI420(f, lastErr); f == nil {
		return nil
	}
	if t := int(v.target.Load()); t != v.applied {
		if err := v.enc.SetBitrate(t); err == nil {
			v.applied = t
		}
	}
	start := time.Now()
	smp, err := v.enc.Encode(f, keyframe)
	v.s.stats.videoOut.encodeNanos.Add(int64(time.Since(start)))
	v.s.stats.videoOut.encoded.Add(1)
	if err != nil {
		if time.Since(*lastErr) > 5*time.Second {
			v.s.log.Error("rtclink: video encode failed", "err", err)
			*lastErr = time.Now()
		}
		return nil
	}
	if smp == nil {
		v.s.stats.videoOut.dropped.Add(1)
		v.s.log.Debug("rtclink: video frame dropped by the encoder's rate control", "captured", f.Time)
	}
	return smp
}

// send sends one encoded frame captured at t.
func (v *videoSend) send(data []byte, t time.Time) {
	if err := v.tr.write(data, t); err != nil {
		v.s.stats.videoOut.dropped.Add(1)
		v.s.log.Debug("rtclink: video frame dropped: cannot send it", "captured", t, "err", err)
	}
}

// follows reports whether v's bitrate follows the congestion estimate:
// its own encoder, or a pre-encoded source that takes the estimate.
func (v *videoSend) follows() bool {
	if v.cfg.Samples == nil {
		return v.enc != nil
	}
	_, ok := v.cfg.Samples.(capture.BitrateFollower)
	return ok
}

// follow moves v's target towards bps and returns the new target; a
// pre-encoded source that takes it is told.
func (v *videoSend) follow(bps int) int {
	lo, hi, _ := v.cfg.bitrates()
	cur := int(v.target.Load())
	if cur == 0 {
		_, _, cur = v.cfg.bitrates()
	}
	next := bps
	if bps > cur {
		next = cur + (bps-cur)/2
	}
	next = min(max(next, lo), hi)
	v.target.Store(int64(next))
	if bf, ok := v.cfg.Samples.(capture.BitrateFollower); ok {
		bf.SetTargetBitrate(next)
	}
	return next
}

func (v *videoSend) closeSource() error {
	if v.cfg.Samples != nil {
		return v.cfg.Samples.Close()
	}
	return v.cfg.Source.Close()
}

func (v *videoSend) closeEncoder() error {
	if v.cfg.Encoder != nil {
		return v.cfg.Encoder.Close()
	}
	return nil
}

// audioSend re-frames and encodes PCM on one goroutine: audio blocks are
// small and the encoder is fast, so no mailbox is needed.
type audioSend struct {
	s       *PeerSession
	cfg     *AudioSender
	tr      *sendTrack
	rf      *capture.Reframer
	sending atomic.Bool
}

func (a *audioSend) loop() {
	defer a.s.wg.Done()
	var lastErr time.Time
	for {
		f, err := a.cfg.Source.ReadAudio(a.s.ctx)
		if err != nil {
			a.s.sourceEnded("audio", err)
			return
		}
		frames, err := a.rf.Push(f)
		if err != nil {
			if time.Since(lastErr) > 5*time.Second {
				a.s.log.Error("rtclink: bad audio block", "err", err)
				lastErr = time.Now()
			}
			continue
		}
		if !a.sending.Load() {
			continue
		}
		for _, fr := range frames {
			smp, err := a.cfg.Encoder.Encode(fr)
			if err != nil {
				if time.Since(lastErr) > 5*time.Second {
					a.s.log.Error("rtclink: audio encode failed", "err", err)
					lastErr = time.Now()
				}
				continue
			}
			if smp == nil {
				continue
			}
			if err := a.tr.write(smp.Data, fr.Time); err != nil {
				a.s.log.Debug("rtclink: write audio", "err", err)
			}
		}
	}
}

func (a *audioSend) closeSource() error {
	if a.cfg.Samples != nil {
		return a.cfg.Samples.Close()
	}
	return a.cfg.Source.Close()
}

func (a *audioSend) closeEncoder() error {
	if a.cfg.Encoder != nil {
		return a.cfg.Encoder.Close()
	}
	return nil
}
