package rtclink

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// pliInterval paces picture-loss requests: often enough that a receiver
// that joins late gets its first picture within a round trip or two, not
// so often that the sender does nothing but keyframes.
const pliInterval = 250 * time.Millisecond

// maxPLIInterval bounds the growing interval between repeated requests
// for the same missing keyframe.
const maxPLIInterval = 2 * time.Second

// reorderWait is how long a gap in a frame may stay open for a NACK
// retransmission before the frame is given up on.
const reorderWait = 150 * time.Millisecond

func (s *PeerSession) startReceiver(l *link, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	codec := codecOf(t.Codec())
	takeVideo := false
	if rv := s.cfg.ReceiveVideo; rv != nil && t.Kind() == webrtc.RTPCodecTypeVideo {
		if rv.Track == "" {
			takeVideo = l.videoTaken.CompareAndSwap(false, true)
		} else {
			takeVideo = t.ID() == rv.Track
		}
	}
	s.log.Info("rtclink: receiving track", "kind", t.Kind().String(), "name", t.ID(), "codec", codec.MimeType, "ssrc", uint32(t.SSRC()))
	if t.Kind() == webrtc.RTPCodecTypeVideo && s.cfg.ReceiveVideo != nil && !takeVideo {
		s.log.Info("rtclink: video track not taken: ReceiveVideo takes one", "name", t.ID(), "taking", s.cfg.ReceiveVideo.Track)
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		for {
			if _, _, err := r.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer s.wg.Done()
		switch {
		case takeVideo:
			s.receiveVideo(l, t, codec)
		case t.Kind() == webrtc.RTPCodecTypeAudio && s.cfg.ReceiveAudio != nil:
			s.receiveAudio(t, codec)
		}
		drain(t)
	}()
}

// drain reads a track nobody wants until its connection closes, so its
// buffers never fill.
func drain(t *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := t.Read(buf); err != nil {
			return
		}
	}
}

func (s *PeerSession) receiveVideo(l *link, t *webrtc.TrackRemote, codec capture.Codec) {
	pc := l.pc
	rv := s.cfg.ReceiveVideo
	asm := newAssembler(codec)
	if asm == nil {
		s.log.Warn("rtclink: cannot depacketize video codec, ignoring track", "codec", codec.MimeType)
		return
	}
	var dec playback.VideoDecoder
	if rv.NewDecoder != nil {
		var err error
		if dec = l.prepared.Load().take(codec.MimeType); dec != nil {
			s.log.Debug("rtclink: video decoder set up while the call connected")
		} else if dec, err = rv.NewDecoder(codec); err != nil {
			s.log.Error("rtclink: no decoder for video track", "codec", codec.MimeType, "err", err)
			return
		}
		defer dec.Close()
	}
	vsink, _ := rv.Sink.(playback.VideoSink)
	ssink, _ := rv.Sink.(playback.SampleSink)

	ssrc := uint32(t.SSRC())
	// While the picture waits for a keyframe the request is repeated, in
	// case it or its keyframe was lost, at growing intervals: a link too
	// narrow for a keyframe every 250 ms must not get one.
	var lastPLI time.Time
	wait := pliInterval
	pli := func(now time.Time) {
		if now.Sub(lastPLI) < wait {
			return
		}
		if !lastPLI.IsZero() && now.Sub(lastPLI) < 2*maxPLIInterval {
			wait = min(2*wait, maxPLIInterval)
		}
		lastPLI = now
		if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err == nil {
			s.stats.videoIn.plisSent.Add(1)
		}
	}
	// No picture-loss request up front: the sender starts every call with
	// a keyframe, and asking before it arrives only buys a second one.
	// A first complete frame that is not a keyframe, or a frame given up
	// on, asks.
	gotKey := false
	gaveUp := 0
	loss := lossCounter{c: &s.stats.videoIn.lost}
	var lastErr time.Time
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		now := time.Now()
		s.stats.videoIn.packets.Add(1)
		s.stats.videoIn.bytes.Add(int64(len(pkt.Payload)))
		loss.see(pkt.SequenceNumber)
		frames := asm.push(pkt, now)
		if asm.gaveUp != gaveUp {
			s.stats.videoIn.givenUp.Add(int64(asm.gaveUp - gaveUp))
			gaveUp = asm.gaveUp
		}
		if asm.needKey {
			pli(now) // a frame was given up on: nothing decodes until a keyframe
		}
		for _, f := range frames {
			key := asm.isKey(f)
			s.stats.videoIn.received.Add(1)
			if !gotKey && !key {
				pli(now) // joined mid-stream, or the first keyframe was lost
			}
			if dec == nil {
				gotKey = gotKey || key
				if ssink != nil {
					_ = ssink.WriteSample(codec, &capture.Sample{Data: f, Time: now, Keyframe: key})
				}
				continue
			}
			start := time.Now()
			img, err := dec.Decode(f)
			s.stats.videoIn.decodeNanos.Add(int64(time.Since(start)))
			if err != nil {
				if time.Since(lastErr) > 5*time.Second {
					s.log.Warn("rtclink: video decode failed", "err", err)
					lastErr = time.Now()
				}
				pli(now)
				continue
			}
			if img == nil {
				if nk, ok := dec.(playback.KeyframeRequester); ok && nk.NeedKeyframe() {
					pli(now)
				}
				continue
			}
			if key {
				wait = pliInterval // recovered: the next loss asks at once
			}
			gotKey = true
			s.stats.videoIn.decoded.Add(1)
			if img.Time.IsZero() {
				img.Time = now
			}
			if err := vsink.WriteVideo(img); err != nil && time.Since(lastErr) > 5*time.Second {
				s.log.Warn("rtclink: video sink failed", "err", err)
				lastErr = time.Now()
			}
		}
	}
}

func newAssembler(c capture.Codec) *assembler {
	switch strings.ToLower(c.MimeType) {
	case "video/vp8":
		return &assembler{
			maxWait: reorderWait,
			isHead:  (&codecs.VP8Packet{}).IsPartitionHead,
			depack: func(b []byte) ([]byte, error) {
				var p codecs.VP8Packet
				return p.Unmarshal(b)
			},
			isKey: func(f []byte) bool { return len(f) > 0 && f[0]&0x01 == 0 },
		}
	case "video/h264":
		hp := &codecs.H264Packet{}
		return &assembler{
			maxWait: reorderWait,
			isHead:  hp.IsPartitionHead,
			depack:  hp.Unmarshal,
			isKey:   h264Key,
		}
	}
	return nil
}

// h264Key reports whether an Annex-B access unit holds an IDR slice or a
// sequence parameter set.
func h264Key(f []byte) bool {
	for i := 0; i+3 < len(f); i++ {
		if f[i] == 0 && f[i+1] == 0 && f[i+2] == 1 {
			switch f[i+3] & 0x1f {
			case 5, 7:
				return true
			}
		}
	}
	return false
}

// maxConceal bounds how many lost audio packets are concealed at once;
// a longer gap is a pause, not a loss.
const maxConceal = 5

func (s *PeerSession) receiveAudio(t *webrtc.TrackRemote, codec capture.Codec) {
	ra := s.cfg.ReceiveAudio
	var dec playback.AudioDecoder
	if ra.NewDecoder != nil {
		var err error
		if dec, err = ra.NewDecoder(codec); err != nil {
			s.log.Error("rtclink: no decoder for audio track", "codec", codec.MimeType, "err", err)
			return
		}
		defer dec.Close()
	}
	asink, _ := ra.Sink.(playback.AudioSink)
	ssink, _ := ra.Sink.(playback.SampleSink)
	var last uint16
	started := false
	loss := lossCounter{c: &s.stats.audioIn.lost}
	var lastErr time.Time
	out := func(f *capture.AudioFrame, err error) {
		if err != nil {
			if time.Since(lastErr) > 5*time.Second {
				s.log.Warn("rtclink: audio decode failed", "err", err)
				lastErr = time.Now()
			}
			return
		}
		if f == nil {
			return
		}
		s.stats.audioIn.decoded.Add(1)
		if f.Time.IsZero() {
			f.Time = time.Now()
		}
		if err := asink.WriteAudio(f); err != nil && time.Since(lastErr) > 5*time.Second {
			s.log.Warn("rtclink: audio sink failed", "err", err)
			lastErr = time.Now()
		}
	}
	for {
		pkt, _, err := t.ReadRTP()
		if err != nil {
			return
		}
		s.stats.audioIn.packets.Add(1)
		s.stats.audioIn.bytes.Add(int64(len(pkt.Payload)))
		loss.see(pkt.SequenceNumber)
		if started {
			gap := int16(pkt.SequenceNumber - last - 1)
			if gap < 0 {
				continue // late or duplicate: already concealed
			}
			if dec != nil && gap > 0 && gap <= maxConceal {
				for range gap {
					out(dec.Decode(nil))
				}
			}
		}
		started, last = true, pkt.SequenceNumber
		if len(pkt.Payload) == 0 {
			continue
		}
		if dec == nil {
			if ssink != nil {
				_ = ssink.WriteSample(codec, &capture.Sample{Data: pkt.Payload, Time: time.Now(), Duration: 20 * time.Millisecond})
			}
			continue
		}
		out(dec.Decode(pkt.Payload))
	}
}

// lossCounter counts sequence numbers skipped over, and takes back the
// ones that arrive late (reordered or retransmitted).
type lossCounter struct {
	c       *atomic.Int64
	highest uint16
	started bool
}

func (l *lossCounter) see(seq uint16) {
	if !l.started {
		l.started, l.highest = true, seq
		return
	}
	d := int16(seq - l.highest)
	switch {
	case d > 0:
		l.c.Add(int64(d - 1))
		l.highest = seq
	case d < 0:
		l.c.Add(-1)
	}
}
