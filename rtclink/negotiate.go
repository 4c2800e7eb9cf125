package rtclink

import (
	"slices"
	"time"

	"github.com/avlink/avlink/signal"
	"github.com/pion/webrtc/v4"
)

// handle acts on one signaling message, on the loop.
func (s *PeerSession) handle(m signal.Message) {
	if m.Sender != "" && m.Sender == s.selfID {
		return
	}
	switch m.Type {
	case signal.TypeJoined:
		s.sawJoined = true
		s.selfID = m.ID
		s.room.joined(m)
		s.log.Info("rtclink: joined room", "room", m.Room, "id", m.ID, "other_peers", len(m.Peers))
		if l := s.link; l != nil && slices.Contains(m.Peers, l.peer) {
			s.peerArrived(l.peer)
		} else if s.cfg.Role == Offerer && s.link == nil && len(m.Peers) > 0 {
			// The newest is the likeliest to be alive: an older one may
			// be a restarted robot's predecessor whose connection lingers.
			s.peerArrived(m.Peers[len(m.Peers)-1])
		}
	case signal.TypePeerJoined:
		s.room.add(m.Peer)
		s.log.Info("rtclink: peer joined the room", "room", s.room.name, "peer", m.Peer, "peers", s.room.peers())
		s.peerArrived(m.Peer)
	case signal.TypeJoin:
		// An old server forwards joins instead of announcing peers.
		if m.Sender != "" {
			s.peerArrived(m.Sender)
		}
	case signal.TypePeerLeft:
		s.room.remove(m.Peer)
		s.log.Info("rtclink: peer left the room", "room", s.room.name, "peer", m.Peer, "peers", s.room.peers())
		delete(s.early, m.Peer)
		delete(s.lastJoin, m.Peer)
		s.waiting = slices.DeleteFunc(s.waiting, func(p string) bool { return p == m.Peer })
		if l := s.link; l != nil && l.peer == m.Peer {
			if l.state == webrtc.PeerConnectionStateConnected {
				// Its signaling dropped, not necessarily its media: keep
				// the call while it lasts; it may come back.
				l.peerGone = true
				s.log.Info("rtclink: peer left signaling, keeping the connected call", "peer", m.Peer)
				return
			}
			s.closeLink(l, "peer left")
		}
	case signal.TypeOffer:
		s.handleOffer(m)
	case signal.TypeAnswer:
		s.handleAnswer(m)
	case signal.TypeCandidate:
		s.handleCandidate(m)
	case signal.TypeReconnected:
		if l := s.link; l != nil && s.cfg.Role == Offerer {
			// Restart once the peer is back in the room: an offer sent
			// before it rejoined would reach nobody.
			s.restartWanted = true
			s.afterFunc(3*time.Second, func() {
				if s.restartWanted && s.link == l {
					s.restartWanted = false
					s.log.Info("rtclink: peer not seen since signaling reconnected, restarting ICE anyway")
					s.restartICE(l)
				}
			})
		}
	case signal.TypeError:
		s.log.Warn("rtclink: signaling server refused a message", "code", m.Code, "reason", m.Reason)
	}
}

// peerArrived makes the offerer offer to a peer that joined the room. The
// same arrival may be announced twice (forwarded join and peer-joined).
func (s *PeerSession) peerArrived(peer string) {
	if s.cfg.Role != Offerer || peer == "" {
		return
	}
	if l := s.link; l != nil && l.peer == peer {
		// The same peer back after a signaling drop (ids survive it):
		// keep the peer connection, and restart ICE if ours dropped too.
		l.peerGone = false
		if s.restartWanted {
			s.restartWanted = false
			s.log.Info("rtclink: signaling reconnected, restarting ICE", "peer", peer)
			s.restartICE(l)
		}
		return
	}
	if t, ok := s.lastJoin[peer]; ok && time.Since(t) < time.Second {
		return
	}
	s.lastJoin[peer] = time.Now()
	if l := s.link; l != nil && !l.peerGone && l.peer != peer && l.peer != "" && l.state == webrtc.PeerConnectionStateConnected {
		// Busy with a peer that is still here: serve this one when the
		// current call ends.
		s.log.Info("rtclink: already connected, new peer waits", "peer", peer, "connected_to", l.peer)
		if !slices.Contains(s.waiting, peer) {
			s.waiting = append(s.waiting, peer)
		}
		return
	}
	s.connect(peer)
}

// connect replaces any current peer connection with a new one to peer and
// offers ("" offers to the whole room, for servers without peer ids).
func (s *PeerSession) connect(peer string) {
	s.waiting = slices.DeleteFunc(s.waiting, func(p string) bool { return p == peer })
	if s.link != nil {
		// Not a call that ended: keep closeLink from serving the waiting.
		w := s.waiting
		s.waiting = nil
		s.closeLink(s.link, "new peer")
		s.waiting = w
	}
	l, err := s.newLink(peer)
	if err != nil {
		s.log.Error("rtclink: cannot create peer connection", "err", err)
		return
	}
	s.log.Info("rtclink: offering", "peer", peer)
	s.offer(l, false)
}

// offer creates and sends an offer on l.
func (s *PeerSession) offer(l *link, iceRestart bool) {
	offer, err := l.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart})
	if err == nil {
		err = l.pc.SetLocalDescription(offer)
	}
	if err != nil {
		s.log.Error("rtclink: cannot make offer", "peer", l.peer, "err", err)
		return
	}
	s.sendDescription(l, signal.TypeOffer)
}

// sendDescription sends l's local description, at once when trickling or
// after gathering completes when not.
func (s *PeerSession) sendDescription(l *link, typ string) {
	if !s.cfg.NoTrickle {
		s.send(signal.Message{Type: typ, SDP: addFrameSizes(l.pc.LocalDescription().SDP, s.frameSizes()), To: l.peer})
		return
	}
	done := webrtc.GatheringCompletePromise(l.pc)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-done:
		case <-s.ctx.Done():
			return
		}
		s.post(func() {
			if s.link == l {
				s.send(signal.Message{Type: typ, SDP: addFrameSizes(l.pc.LocalDescription().SDP, s.frameSizes()), To: l.peer})
			}
		})
	}()
}

func (s *PeerSession) handleOffer(m signal.Message) {
	l := s.link
	if l != nil && l.peer != "" && l.peer != m.Sender {
		s.log.Info("rtclink: offer from another peer, switching", "peer", m.Sender, "was", l.peer)
		s.closeLink(l, "offer from another peer")
		l = nil
	}
	if l == nil {
		var err error
		if l, err = s.newLink(m.Sender); err != nil {
			s.log.Error("rtclink: cannot create peer connection", "err", err)
			return
		}
	}
	l.peer = m.Sender
	if l.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if s.cfg.Role == Offerer {
			s.log.Debug("rtclink: offer collision, keeping ours", "peer", m.Sender)
			return
		}
		if err := l.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			s.log.Warn("rtclink: rollback failed", "err", err)
			return
		}
	}
	err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: fixSDP(m.SDP)})
	if err != nil {
		s.log.Warn("rtclink: unusable offer", "peer", m.Sender, "err", err)
		return
	}
	s.prepareDecoder(l, m.SDP)
	if !l.tracksAdded {
		if err := s.addTracks(l); err != nil {
			s.log.Error("rtclink: cannot add tracks", "err", err)
			return
		}
	}
	s.remoteSet(l)
	answer, err := l.pc.CreateAnswer(nil)
	if err == nil {
		err = l.pc.SetLocalDescription(answer)
	}
	if err != nil {
		s.log.Warn("rtclink: cannot answer", "peer", m.Sender, "err", err)
		return
	}
	s.log.Info("rtclink: answering", "peer", m.Sender)
	s.sendDescription(l, signal.TypeAnswer)
}

func (s *PeerSession) handleAnswer(m signal.Message) {
	l := s.link
	if l == nil || (l.peer != "" && l.peer != m.Sender) {
		return
	}
	if l.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		s.log.Debug("rtclink: unexpected answer", "peer", m.Sender, "state", l.pc.SignalingState())
		return
	}
	if l.peer == "" {
		l.peer = m.Sender
	}
	err := l.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: fixSDP(m.SDP)})
	if err != nil {
		s.log.Warn("rtclink: unusable answer", "peer", m.Sender, "err", err)
		return
	}
	s.prepareDecoder(l, m.SDP)
	s.remoteSet(l)
}

// remoteSet applies the candidates that came before the description.
func (s *PeerSession) remoteSet(l *link) {
	l.negotiated = true
	pending := append(s.early[l.peer], l.pending...)
	delete(s.early, l.peer)
	l.pending = nil
	for _, c := range pending {
		s.addCandidate(l, c)
	}
}

func (s *PeerSession) handleCandidate(m signal.Message) {
	if m.Candidate == nil || m.Candidate.Candidate == "" {
		return // end of candidates
	}
	c := webrtc.ICECandidateInit{
		Candidate:        m.Candidate.Candidate,
		SDPMid:           m.Candidate.SDPMid,
		SDPMLineIndex:    m.Candidate.SDPMLineIndex,
		UsernameFragment: m.Candidate.UsernameFragment,
	}
	l := s.link
	switch {
	case l != nil && (l.peer == m.Sender || l.peer == ""):
		if l.pc.RemoteDescription() == nil {
			l.pending = append(l.pending, c)
			return
		}
		s.addCandidate(l, c)
	default:
		// Before the offer that will make a link for this peer.
		if len(s.early[m.Sender]) < maxEarlyCandidates {
			s.early[m.Sender] = append(s.early[m.Sender], c)
		}
	}
}

const maxEarlyCandidates = 64

func (s *PeerSession) addCandidate(l *link, c webrtc.ICECandidateInit) {
	if err := l.pc.AddICECandidate(c); err != nil {
		s.log.Debug("rtclink: remote candidate refused", "candidate", c.Candidate, "err", err)
	}
}

// onState follows the connection state, on the loop.
func (s *PeerSession) onState(l *link, st webrtc.PeerConnectionState) {
	if s.link != l {
		return
	}
	l.state = st
	s.update(func() { s.state = st })
	s.log.Info("rtclink: connection state", "peer", l.peer, "state", st.String())
	if l.graceTimer != nil {
		l.graceTimer.Stop()
		l.graceTimer = nil
	}
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.stats.connects.Add(1)
		s.setSending(true)
		// Whatever was written before DTLS came up is gone.
		for _, v := range s.videos {
			v.connected()
		}
	case webrtc.PeerConnectionStateDisconnected:
		l.graceTimer = s.afterFunc(s.cfg.grace(), func() {
			if s.link == l && l.state == webrtc.PeerConnectionStateDisconnected {
				s.connectionLost(l, "still disconnected")
			}
		})
	case webrtc.PeerConnectionStateFailed:
		s.setSending(false)
		s.update(func() { s.failures++ })
		s.log.Error("rtclink: connection failed", "peer", l.peer, "why", s.noPath())
		s.connectionLost(l, "connection failed")
	case webrtc.PeerConnectionStateClosed:
		// The far end closed the call (pion follows a DTLS close).
		if s.cfg.OnState != nil {
			s.cfg.OnState(st)
		}
		s.closeLink(l, "closed by the peer")
		return
	}
	if s.cfg.OnState != nil {
		s.cfg.OnState(st)
	}
}

// connectionLost ends a call whose peer has left, or has the offerer
// restart ICE for one whose peer is still there.
func (s *PeerSession) connectionLost(l *link, why string) {
	switch {
	case l.peerGone:
		s.closeLink(l, "peer gone: "+why)
	case s.cfg.Role == Offerer:
		s.log.Info("rtclink: restarting ICE", "peer", l.peer, "why", why)
		s.restartICE(l)
	}
}

func (s *PeerSession) restartICE(l *link) {
	if l.pc.SignalingState() != webrtc.SignalingStateStable {
		// An offer is already out; its answer (or the next event) decides.
		return
	}
	s.stats.iceRestarts.Add(1)
	s.offer(l, true)
}

// setSending turns sending on or off; video is turned on by each
// video's connected, which starts its picture.
func (s *PeerSession) setSending(on bool) {
	for _, v := range s.videos {
		if !on {
			v.sending.Store(false)
		}
	}
	if s.audio != nil {
		s.audio.sending.Store(on)
	}
}
