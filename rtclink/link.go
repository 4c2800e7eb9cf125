package rtclink

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"

	"github.com/avlink/avlink/signal"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// link is one peer connection to one remote peer. Its fields belong to
// the session loop.
type link struct {
	pc    *webrtc.PeerConnection
	peer  string // remote id; "" until known on servers without ids
	state webrtc.PeerConnectionState
	est   cc.BandwidthEstimator

	pending     []webrtc.ICECandidateInit // before the remote description
	negotiated  bool
	peerGone    bool // left signaling while the call was up
	tracksAdded bool
	graceTimer  *time.Timer
	stopBitrate func()
	codecs      []capture.Codec                 // the send codecs its API registered
	videoTaken  atomic.Bool                     // a remote video track went to ReceiveVideo
	prepared    atomic.Pointer[preparedDecoder] // set up for the peer's announced size
}

// followEstimate lets the session's video encoders follow l's congestion
// estimate. It hooks the estimate when l is made, before any packet: pion's
// estimator does not guard its callback, and a video track added later is
// found by the hook itself.
func (s *PeerSession) followEstimate(l *link) {
	if l.est == nil || l.stopBitrate != nil {
		return
	}
	l.stopBitrate = s.followEstimateOf(l.est)
}

func (s *PeerSession) newLink(peer string) (*link, error) {
	cfg := webrtc.Configuration{ICEServers: s.cfg.ICEServers, BundlePolicy: webrtc.BundlePolicyMaxBundle}
	if s.cfg.RelayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	var est cc.BandwidthEstimator
	api, err := s.buildAPI(&est)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, err
	}
	l := &link{pc: pc, peer: peer, est: est, codecs: s.sendCodecs()}
	s.link = l
	s.update(func() { s.state = StateNew })

	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil || s.cfg.NoTrickle {
			return
		}
		init := c.ToJSON()
		s.post(func() {
			if s.link != l {
				return
			}
			s.send(signal.Message{Type: signal.TypeCandidate, To: l.peer, Candidate: &signal.Candidate{
				Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment,
			}})
		})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.post(func() { s.onState(l, st) })
	})
	pc.OnNegotiationNeeded(func() {
		s.post(func() {
			if s.link == l && l.negotiated && pc.SignalingState() == webrtc.SignalingStateStable {
				s.log.Info("rtclink: renegotiating", "peer", l.peer)
				s.offer(l, false)
			}
		})
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		s.startReceiver(l, t, r)
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { s.attachDataChannel(pc, dc) })

	if s.cfg.Role == Offerer {
		err := s.addTracks(l)
		if err == nil {
			err = s.createDataChannels(pc)
		}
		if err != nil {
			_ = pc.Close()
			s.link = nil
			s.update(func() { s.state = StateNone })
			return nil, err
		}
	}
	s.followEstimate(l)
	for _, v := range s.videos {
		v.connecting(true)
	}
	return l, nil
}

// addTracks attaches the session's outgoing tracks to l, and asks to
// receive what the config wants but does not send. On the answerer it runs
// after the offer is applied, so pion pairs the tracks with the offer's
// transceivers.
func (s *PeerSession) addTracks(l *link) error {
	l.tracksAdded = true
	sendKinds := map[webrtc.RTPCodecType]bool{}
	var tracks []*sendTrack
	for _, v := range s.videos {
		tracks = append(tracks, v.tr)
	}
	for _, tr := range append(tracks, s.audioTrack()) {
		if tr == nil {
			continue
		}
		sender, err := l.pc.AddTrack(tr.track)
		if err != nil {
			return err
		}
		sendKinds[tr.kind] = true
		s.wg.Add(1)
		go s.readRTCP(sender, tr)
	}
	if s.cfg.Role == Offerer {
		for kind, want := range map[webrtc.RTPCodecType]bool{
			webrtc.RTPCodecTypeVideo: s.cfg.ReceiveVideo != nil,
			webrtc.RTPCodecTypeAudio: s.cfg.ReceiveAudio != nil,
		} {
			if want && !sendKinds[kind] {
				if _, err := l.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readRTCP turns the far side's picture-loss reports into keyframes. It
// also keeps the interceptors' RTCP path drained.
func (s *PeerSession) readRTCP(sender *webrtc.RTPSender, tr *sendTrack) {
	defer s.wg.Done()
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.stats.videoOut.plisReceived.Add(1)
				if tr.onPLI != nil {
					tr.onPLI()
				}
			case *rtcp.TransportLayerNack:
				if tr.kind == webrtc.RTPCodecTypeVideo {
					s.stats.videoOut.nacks.Add(1)
				}
			}
		}
	}
}

// closeLink ends l's peer connection; its goroutines end with it.
func (s *PeerSession) closeLink(l *link, why string) {
	if l.graceTimer != nil {
		l.graceTimer.Stop()
	}
	if l.stopBitrate != nil {
		l.stopBitrate()
	}
	if s.link == l {
		s.link = nil
		s.setSending(false)
		for _, v := range s.videos {
			v.connecting(false)
		}
		var gone []Channel
		s.update(func() {
			s.state = StateNone
			for ch := range s.dcs {
				gone = append(gone, ch)
			}
			clear(s.dcs)
		})
		for _, ch := range gone {
			s.channelEvent(ch, false)
		}
	}
	if err := l.pc.Close(); err != nil {
		s.log.Debug("rtclink: close peer connection", "err", err)
	}
	l.prepared.Load().drop()
	s.log.Info("rtclink: peer connection closed", "peer", l.peer, "why", why)
	if s.cfg.Role == Offerer && s.link == nil && len(s.waiting) > 0 && s.ctx.Err() == nil {
		next := s.waiting[len(s.waiting)-1] // the newest is the likeliest to be alive
		s.log.Info("rtclink: serving a waiting peer", "peer", next)
		s.connect(next)
	}
}

// registered reports whether l's API was built knowing codec c: the
// defaults cover every codec but an H.264 profile outside them.
func (l *link) registered(c capture.Codec) bool {
	if !strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) || hasDefaultH264(c) {
		return true
	}
	for _, r := range l.codecs {
		if strings.EqualFold(r.MimeType, c.MimeType) && strings.EqualFold(fmtpValue(r.Fmtp, "profile-level-id"), fmtpValue(c.Fmtp, "profile-level-id")) {
			return true
		}
	}
	return false
}
