package livekit

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	lkproto "github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// keyframeGap is the shortest time between keyframes granted to viewers'
// picture-loss requests, so that a viewer that keeps asking during loss
// does not turn the stream into keyframes only.
const keyframeGap = 250 * time.Millisecond

// videoPub is one published video track and the loop that feeds it.
type videoPub struct {
	s       *Session
	cfg     *rtclink.VideoSender
	name    string
	track   *lksdk.LocalTrack
	bitrate int

	kf                            atomic.Bool
	lastKF                        time.Time // owned by the loop
	encoded, sent, dropped, bytes atomic.Int64
	i420                          capture.VideoFrame
	recycler                      capture.VideoRecycler
	lastErr                       time.Time
}

// audioPub is the published audio track and the loop that feeds it.
type audioPub struct {
	s           *Session
	cfg         *rtclink.AudioSender
	track       *lksdk.LocalTrack
	rf          *capture.Reframer
	sent, bytes atomic.Int64
}

// AddVideo publishes another video track, named by v.Name ("video" when
// empty), on the running session.
func (s *Session) AddVideo(v *rtclink.VideoSender) error {
	if v == nil || (v.Samples == nil && (v.Source == nil || v.Encoder == nil)) {
		return fmt.Errorf("%w: a VideoSender needs Source and Encoder, or Samples", ErrConfig)
	}
	p := &videoPub{s: s, cfg: v, name: v.Name}
	if p.name == "" {
		p.name = "video"
	}
	s.mediaMu.Lock()
	for _, o := range s.videos {
		if o.name == p.name {
			s.mediaMu.Unlock()
			return fmt.Errorf("%w: two video tracks named %q", ErrConfig, p.name)
		}
	}
	s.mediaMu.Unlock()
	codec := v.Samples
	var c capture.Codec
	if codec != nil {
		c = codec.Codec()
	} else {
		c = v.Encoder.Codec()
		p.bitrate = startBitrate(v)
		if err := v.Encoder.SetBitrate(p.bitrate); err != nil {
			return fmt.Errorf("livekit: video encoder: %w", err)
		}
		p.recycler, _ = v.Source.(capture.VideoRecycler)
	}
	tr, err := lksdk.NewLocalSampleTrack(capability(c), lksdk.WithRTCPHandler(p.onRTCP))
	if err != nil {
		return fmt.Errorf("livekit: video track: %w", err)
	}
	// A fresh subscriber path starts with a keyframe.
	tr.OnBind(p.requestKeyframe)
	p.track = tr
	if _, err := s.room.LocalParticipant.PublishTrack(tr, &lksdk.TrackPublicationOptions{
		Name: p.name, Source: lkproto.TrackSource_CAMERA,
	}); err != nil {
		return fmt.Errorf("livekit: publish %s: %w", p.name, err)
	}
	return s.start(func() { s.videos = append(s.videos, p) }, p.loop)
}

// AddAudio publishes the session's audio track; a session has at most
// one.
func (s *Session) AddAudio(a *rtclink.AudioSender) error {
	if a == nil || (a.Samples == nil && (a.Source == nil || a.Encoder == nil)) {
		return fmt.Errorf("%w: an AudioSender needs Source and Encoder, or Samples", ErrConfig)
	}
	s.mediaMu.Lock()
	has := s.audio != nil
	s.mediaMu.Unlock()
	if has {
		return fmt.Errorf("%w: the session already sends audio", ErrConfig)
	}
	p := &audioPub{s: s, cfg: a}
	var c capture.Codec
	if a.Samples != nil {
		c = a.Samples.Codec()
	} else {
		c = a.Encoder.Codec()
		rf, err := capture.NewReframer(capture.ReframerConfig{
			Rate: a.Encoder.Rate(), Channels: a.Encoder.Channels(), FrameSize: a.Encoder.FrameSize(),
		})
		if err != nil {
			return fmt.Errorf("livekit: audio encoder format: %w", err)
		}
		p.rf = rf
	}
	tr, err := lksdk.NewLocalSampleTrack(capability(c))
	if err != nil {
		return fmt.Errorf("livekit: audio track: %w", err)
	}
	p.track = tr
	if _, err := s.room.LocalParticipant.PublishTrack(tr, &lksdk.TrackPublicationOptions{
		Name: "audio", Source: lkproto.TrackSource_MICROPHONE, DisableDTX: true,
	}); err != nil {
		return fmt.Errorf("livekit: publish audio: %w", err)
	}
	return s.start(func() { s.audio = p }, p.loop)
}

// start records a publication and runs its loop, unless the session
// closed meanwhile.
func (s *Session) start(record func(), loop func()) error {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	if s.ctx.Err() != nil {
		return s.Err()
	}
	record()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		loop()
	}()
	return nil
}

func startBitrate(v *rtclink.VideoSender) int {
	lo, hi, start := v.MinBitrate, v.MaxBitrate, v.StartBitrate
	if lo == 0 {
		lo = 100_000
	}
	if hi == 0 {
		hi = 2_500_000
	}
	if start == 0 {
		start = 500_000
	}
	return min(max(start, lo), hi)
}

func (p *videoPub) requestKeyframe() {
	p.kf.Store(true)
	if ks, ok := p.cfg.Samples.(capture.KeyframeSource); ok {
		ks.RequestKeyframe()
	}
}

// onRTCP passes on the SFU's picture-loss requests, which it sends when
// a subscriber joins or loses the picture.
func (p *videoPub) onRTCP(pkt rtcp.Packet) {
	switch pkt.(type) {
	case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
		p.requestKeyframe()
	}
}

func (p *videoPub) loop() {
	s := p.s
	if p.cfg.Samples != nil {
		for {
			smp, err := p.cfg.Samples.ReadSample(s.ctx)
			if err != nil {
				s.sourceEnded("video", err)
				return
			}
			p.write(smp, smp.Time)
		}
	}
	for {
		f, err := p.cfg.Source.ReadVideo(s.ctx)
		if err != nil {
			s.sourceEnded("video", err)
			return
		}
		if f.Time.IsZero() {
			f.Time = time.Now()
		}
		p.encode(f)
		if p.recycler != nil {
			p.recycler.RecycleVideo(f)
		}
	}
}

func (p *videoPub) encode(f *capture.VideoFrame) {
	in := f
	if f.Format != capture.FormatI420 {
		if err := capture.ToI420(&p.i420, f); err != nil {
			p.logErr("cannot convert video frame", err)
			return
		}
		in = &p.i420
	}
	kf := false
	if p.kf.Load() && time.Since(p.lastKF) >= keyframeGap {
		kf, p.lastKF = true, time.Now()
		p.kf.Store(false)
	}
	smp, err := p.cfg.Encoder.Encode(in, kf)
	p.encoded.Add(1)
	switch {
	case err != nil:
		p.logErr("video encode failed", err)
	case smp == nil:
		p.dropped.Add(1)
	default:
		p.write(smp, f.Time)
	}
}

func (p *videoPub) write(smp *capture.Sample, at time.Time) {
	if !p.track.IsBound() {
		return // not yet negotiated with the server
	}
	if err := writeSample(p.track, smp, at); err != nil {
		p.dropped.Add(1)
		p.s.log.Debug("livekit: video frame not sent", "track", p.name, "err", err)
		return
	}
	p.sent.Add(1)
	p.bytes.Add(int64(len(smp.Data)))
}

func (p *videoPub) logErr(msg string, err error) {
	if time.Since(p.lastErr) > 5*time.Second {
		p.s.log.Error("livekit: "+msg, "track", p.name, "err", err)
		p.lastErr = time.Now()
	}
}

// writeSample hands one encoded sample to the SDK, which packetizes it
// with an RTP timestamp taken from its capture time.
func writeSample(tr *lksdk.LocalTrack, smp *capture.Sample, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	return tr.WriteSample(media.Sample{Data: smp.Data, Timestamp: at, Duration: smp.Duration}, nil)
}

func (p *audioPub) loop() {
	s := p.s
	if p.cfg.Samples != nil {
		for {
			smp, err := p.cfg.Samples.ReadSample(s.ctx)
			if err != nil {
				s.sourceEnded("audio", err)
				return
			}
			p.write(smp, smp.Time)
		}
	}
	var lastErr time.Time
	for {
		f, err := p.cfg.Source.ReadAudio(s.ctx)
		if err != nil {
			s.sourceEnded("audio", err)
			return
		}
		frames, err := p.rf.Push(f)
		for _, fr := range frames {
			smp, e := p.cfg.Encoder.Encode(fr)
			if e == nil && smp != nil {
				p.write(smp, fr.Time)
			}
			err = errors.Join(err, e)
		}
		if err != nil && time.Since(lastErr) > 5*time.Second {
			s.log.Error("livekit: audio not encoded", "err", err)
			lastErr = time.Now()
		}
	}
}

func (p *audioPub) write(smp *capture.Sample, at time.Time) {
	if !p.track.IsBound() {
		return
	}
	if smp.Duration == 0 {
		smp.Duration = 20 * time.Millisecond
	}
	if err := writeSample(p.track, smp, at); err != nil {
		p.s.log.Debug("livekit: audio frame not sent", "err", err)
		return
	}
	p.sent.Add(1)
	p.bytes.Add(int64(len(smp.Data)))
}

func (p *videoPub) closeSource() error {
	if p.cfg.Samples != nil {
		return p.cfg.Samples.Close()
	}
	return p.cfg.Source.Close()
}

func (p *videoPub) closeEncoder() error {
	if p.cfg.Samples == nil {
		return p.cfg.Encoder.Close()
	}
	return nil
}

func (p *audioPub) closeSource() error {
	if p.cfg.Samples != nil {
		return p.cfg.Samples.Close()
	}
	return p.cfg.Source.Close()
}

func (p *audioPub) closeEncoder() error {
	if p.cfg.Samples == nil {
		return p.cfg.Encoder.Close()
	}
	return nil
}

func (s *Session) sourceEnded(kind string, err error) {
	switch {
	case s.ctx.Err() != nil:
	case errors.Is(err, io.EOF):
		s.log.Info("livekit: source ended", "kind", kind)
	default:
		s.log.Error("livekit: source failed", "kind", kind, "err", err)
	}
}

// onTrack plays a subscribed audio track (talk-back) into ReceiveAudio.
func (s *Session) onTrack(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	r := s.cfg.ReceiveAudio
	if r == nil || track.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	c := track.Codec()
	codec := capture.Codec{MimeType: c.MimeType, ClockRate: c.ClockRate, Channels: c.Channels, Fmtp: c.SDPFmtpLine}
	var dec playback.AudioDecoder
	if r.NewDecoder != nil {
		d, err := r.NewDecoder(codec)
		if err != nil {
			s.log.Error("livekit: no decoder for talk-back", "codec", c.MimeType, "from", rp.Identity(), "err", err)
			return
		}
		dec = d
	}
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	if s.leaving {
		if dec != nil {
			dec.Close()
		}
		return
	}
	s.log.Info("livekit: receiving audio", "from", rp.Identity(), "track", pub.Name())
	s.rwg.Add(1)
	go s.receiveAudio(track, codec, dec)
}

// receiveAudio ends when the room closes the track.
func (s *Session) receiveAudio(track *webrtc.TrackRemote, codec capture.Codec, dec playback.AudioDecoder) {
	defer s.rwg.Done()
	if dec != nil {
		defer dec.Close()
	}
	sink := s.cfg.ReceiveAudio.Sink
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		s.audioIn.packets.Add(1)
		s.audioIn.bytes.Add(int64(len(pkt.Payload)))
		if len(pkt.Payload) == 0 {
			continue
		}
		now := time.Now()
		s.sinkMu.Lock()
		if dec == nil {
			err = sink.(playback.SampleSink).WriteSample(codec, &capture.Sample{Data: pkt.Payload, Time: now})
		} else if f, derr := dec.Decode(pkt.Payload); derr == nil && f != nil {
			s.audioIn.decoded.Add(1)
			f.Time = now
			err = sink.(playback.AudioSink).WriteAudio(f)
		}
		s.sinkMu.Unlock()
		if err != nil {
			s.log.Debug("livekit: talk-back not played", "err", err)
		}
	}
}
