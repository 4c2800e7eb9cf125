package rtclink

import (
	"fmt"

	"github.com/avlink/avlink/capture"

	"github.com/pion/webrtc/v4"
)

// AddVideo starts sending a video track on a running session (the first,
// or another camera); the session renegotiates with its peer. It fails
// if the session already sends a track of the same VideoSender.Name.
//
// The track's share of the congestion controller's estimate is clamped to
// its own MinBitrate..MaxBitrate. The controller of a call is sized when
// the call begins, by the video sent then, or from 30 kbit/s to
// 10 Mbit/s when there was none.
func (s *PeerSession) AddVideo(v *VideoSender) error {
	cfg := Config{Signaler: s.cfg.Signaler, Video: v}
	if err := cfg.validate(); err != nil {
		return err
	}
	return s.onLoop(func() error {
		for _, have := range s.videos {
			if have.cfg.name() == v.name() {
				return fmt.Errorf("%w: the session already sends a video track named %q", ErrConfig, v.name())
			}
		}
		vs, err := s.newVideoSend(v)
		if err != nil {
			return err
		}
		s.mediaMu.Lock()
		s.videos = append(s.videos, vs)
		s.mediaMu.Unlock()
		vs.start()
		return s.attachLate(vs.tr, v.codec())
	})
}

// AddAudio starts sending audio on a running session; the session
// renegotiates with its peer. It fails if the session already sends audio.
func (s *PeerSession) AddAudio(a *AudioSender) error {
	cfg := Config{Signaler: s.cfg.Signaler, Audio: a}
	if err := cfg.validate(); err != nil {
		return err
	}
	return s.onLoop(func() error {
		if s.audio != nil {
			return fmt.Errorf("%w: the session already sends audio", ErrConfig)
		}
		as, err := s.newAudioSend(a)
		if err != nil {
			return err
		}
		s.mediaMu.Lock()
		s.audio = as
		s.mediaMu.Unlock()
		as.start()
		return s.attachLate(as.tr, a.codec())
	})
}

// attachLate adds a new track to a live peer connection; pion then asks
// for negotiation and the session offers.
func (s *PeerSession) attachLate(tr *sendTrack, c capture.Codec) error {
	l := s.link
	if l == nil || !l.tracksAdded {
		return nil // the next peer connection picks it up
	}
	if !l.registered(c) {
		// The peer connection's codecs are fixed when it is made: one
		// that lacks this profile cannot carry the track, a new one can.
		if s.cfg.Role != Offerer {
			return fmt.Errorf("%w: %s %s needs a new call; the session sends it from the next one", ErrConfig, c.MimeType, c.Fmtp)
		}
		s.log.Info("rtclink: new codec, calling the peer again", "peer", l.peer, "codec", c.MimeType, "fmtp", c.Fmtp)
		s.connect(l.peer)
		return nil
	}
	sender, err := l.pc.AddTrack(tr.track)
	if err != nil {
		return fmt.Errorf("rtclink: add track: %w", err)
	}
	s.wg.Add(1)
	go s.readRTCP(sender, tr)
	s.followEstimate(l)
	if l.state == webrtc.PeerConnectionStateConnected {
		s.setSending(true)
		if v := s.videoFor(tr); v != nil {
			v.connected()
		}
	}
	return nil
}

// onLoop runs f on the session loop and returns its error.
func (s *PeerSession) onLoop(f func() error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	errc := make(chan error, 1)
	s.post(func() { errc <- f() })
	select {
	case err := <-errc:
		return err
	case <-s.ctx.Done():
		return ErrClosed
	}
}
