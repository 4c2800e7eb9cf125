package rtclink

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// createDataChannels opens, on the offerer, the two default channels when
// Config.DataChannels is set, and every channel of Config.Channels.
func (s *PeerSession) createDataChannels(pc *webrtc.PeerConnection) error {
	var specs []ChannelConfig
	if s.cfg.DataChannels {
		none := uint16(0)
		specs = append(specs, ChannelConfig{Label: Reliable}, ChannelConfig{Label: Unreliable, Unordered: true, MaxRetransmits: &none})
	}
	specs = append(specs, s.cfg.Channels...)
	for _, spec := range specs {
		ordered := !spec.Unordered
		dc, err := pc.CreateDataChannel(string(spec.Label), &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: spec.MaxRetransmits})
		if err != nil {
			return fmt.Errorf("rtclink: data channel %q: %w", spec.Label, err)
		}
		s.attachDataChannel(pc, dc)
	}
	return nil
}

// attachDataChannel wires a channel created here or opened by the peer,
// whatever its label.
func (s *PeerSession) attachDataChannel(pc *webrtc.PeerConnection, dc *webrtc.DataChannel) {
	ch := Channel(dc.Label())
	dc.OnOpen(func() {
		s.post(func() {
			// A channel of a peer connection already replaced is stale.
			if s.link == nil || s.link.pc != pc {
				return
			}
			s.update(func() { s.dcs[ch] = dc })
			s.log.Info("rtclink: data channel open", "channel", string(ch))
			s.channelEvent(ch, true)
		})
	})
	dc.OnClose(func() {
		s.post(func() {
			if s.dcs[ch] == dc {
				s.update(func() { delete(s.dcs, ch) })
				s.log.Debug("rtclink: data channel closed", "channel", string(ch))
				s.channelEvent(ch, false)
			}
		})
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if s.cfg.OnData != nil {
			s.cfg.OnData(ch, m.Data)
		}
	})
}

// channelEvent tells Config.OnChannel; it runs on the session loop.
func (s *PeerSession) channelEvent(ch Channel, open bool) {
	if s.cfg.OnChannel != nil {
		s.cfg.OnChannel(ch, open)
	}
}

// SendData sends one message on the open data channel ch. It fails with
// ErrNoChannel until that channel is open (after the connection is up);
// WaitChannel waits for it.
func (s *PeerSession) SendData(ch Channel, data []byte) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.waitMu.Lock()
	dc := s.dcs[ch]
	s.waitMu.Unlock()
	if dc == nil {
		return fmt.Errorf("%w: %q", ErrNoChannel, ch)
	}
	return dc.Send(data)
}
