package rtclink

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

func (s *Session) createDataChannels(pc *webrtc.PeerConnection) error {
	ordered, unordered, none := true, false, uint16(0)
	for _, spec := range []struct {
		ch   Channel
		init *webrtc.DataChannelInit
	}{
		{Reliable, &webrtc.DataChannelInit{Ordered: &ordered}},
		{Unreliable, &webrtc.DataChannelInit{Ordered: &unordered, MaxRetransmits: &none}},
	} {
		dc, err := pc.CreateDataChannel(spec.ch.label(), spec.init)
		if err != nil {
			return fmt.Errorf("rtclink: data channel %s: %w", spec.ch, err)
		}
		s.attachDataChannel(dc)
	}
	return nil
}

// attachDataChannel wires one of the session's channels, created here or
// by the peer.
func (s *Session) attachDataChannel(dc *webrtc.DataChannel) {
	var ch Channel
	switch dc.Label() {
	case Reliable.label():
		ch = Reliable
	case Unreliable.label():
		ch = Unreliable
	default:
		s.log.Debug("rtclink: ignoring unknown data channel", "label", dc.Label())
		return
	}
	dc.OnOpen(func() {
		s.dcMu.Lock()
		s.dcs[ch] = dc
		s.dcMu.Unlock()
		s.log.Info("rtclink: data channel open", "channel", ch.String())
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if s.cfg.OnData != nil {
			s.cfg.OnData(ch, m.Data)
		}
	})
}

// SendData sends one message on a data channel. It fails with
// ErrNoChannel until the channel is open (after the connection is up).
func (s *Session) SendData(ch Channel, data []byte) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.dcMu.Lock()
	var dc *webrtc.DataChannel
	if ch == Reliable || ch == Unreliable {
		dc = s.dcs[ch]
	}
	s.dcMu.Unlock()
	if dc == nil {
		return ErrNoChannel
	}
	return dc.Send(data)
}
