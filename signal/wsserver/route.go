package wsserver

import (
	"context"
	"log/slog"
	"time"

	"github.com/avlink/avlink/signal"
)

// handle routes one text message from p.
func (s *Server) handle(p *peer, data []byte) {
	env, err := parseEnvelope(data)
	if err != nil {
		s.log.Warn("signal: invalid message dropped", "peer", p.id, "err", err)
		s.refuse(p, signal.CodeInvalidJSON, err.Error())
		return
	}
	joined := env.Type == signal.TypeJoin
	var (
		joinedWith []*peer
		out        []byte
	)
	if joined {
		name := ""
		if env.Room != nil {
			name = *env.Room
		}
		ok, others, o := s.join(p, name, env, data)
		if !ok {
			return
		}
		joinedWith, out = others, o
	} else {
		out = withSender(data, p.id, env.hasSender)
	}

	s.mu.Lock()
	r := p.room
	var to *peer
	var all []*peer // may hold p, who is skipped
	remote := false // the message goes on the bus as well
	switch {
	case env.To != "":
		if to = r.find(env.To); to == p {
			to = nil
		} else if to == nil && len(r.remote) > 0 {
			_, remote = r.remote[env.To]
		}
	case joined:
		// The members the peer joined, as they were at that moment: a
		// peer that comes in later has its own joined answer listing this
		// one, and must not hear this join after it. Other servers had
		// the join with the join event.
		all = joinedWith
	default:
		all = r.list()
		remote = len(r.remote) > 0
	}
	if r.name == "" && (to != nil || remote || len(all) > 1 || len(all) == 1 && all[0] != p) {
		p.heard = true
	}
	s.mu.Unlock()

	receivers := 0
	switch {
	case env.To != "" && to == nil && !remote:
		s.refuse(p, signal.CodeUnknownPeer, "no peer "+env.To+" in this room")
		return
	case to != nil:
		to.enqueue(out)
		receivers = 1
	default:
		for _, t := range all {
			if t != p {
				t.enqueue(out)
				receivers++
			}
		}
	}
	if remote {
		// Outside s.mu: a peer's messages are published by its own
		// reader, one after another, so they keep their order.
		s.bus.publish(r.name, busEvent{kind: evMessage, peer: p.id, to: env.To, msg: out})
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("signal: forwarded", "peer", p.id, "type", env.Type, "room", r.name, "receivers", receivers, "remote", remote)
	}
}

// join moves p into the named room, telling the old room it left and the
// new one it came, and returns the room's other members at that moment
// and the join message as forwarded. It reports false, after telling p
// why, when the room is full or no more rooms may be made.
func (s *Server) join(p *peer, name string, env envelope, data []byte) (bool, []*peer, []byte) {
	s.mu.Lock()
	if resume := env.ID; resume != "" && resume != p.id && validID(resume) && !s.idInUseLocked(resume) {
		// A client back after a dropped connection keeps its id, so its
		// peers' sessions still know it.
		s.log.Info("signal: resumed id", "conn", p.conn, "peer", resume)
		p.id = resume
	}
	out := withSender(data, p.id, env.hasSender)
	old := p.room
	if old != nil && old.name == name {
		others := old.membersExcept(p)
		p.enqueue(encode(signal.Message{Type: signal.TypeJoined, ID: p.id, Room: name, Peers: old.peerIDs(p)}))
		s.mu.Unlock()
		return true, others, out
	}
	r := s.rooms[name]
	if r == nil && len(s.rooms)-1 >= s.cfg.maxRooms() { // the default room is not counted
		s.mu.Unlock()
		s.refuse(p, signal.CodeTooManyRooms, "no more rooms can be made")
		return false, nil, nil
	}
	if r == nil {
		r = s.newRoom(name)
		s.rooms[name] = r
	}
	if s.bus != nil && !r.opened {
		// The first joiner here subscribes the room and learns who is in
		// it on other servers before its joined answer; others wait.
		r.entering++
		first := !r.opening
		r.opening = true
		s.mu.Unlock()
		if first {
			s.openRoom(r)
		} else {
			<-r.ready
		}
		s.mu.Lock()
		r.entering--
	}
	n := len(r.members) + len(r.remote)
	if _, ok := r.remote[p.id]; ok {
		n-- // p itself, back after its server went away
	}
	if name != "" && n >= s.cfg.maxPeersPerRoom() {
		if len(r.members) == 0 && r.entering == 0 {
			s.removeRoomLocked(r)
		}
		s.mu.Unlock()
		s.refuse(p, signal.CodeRoomFull, "room "+name+" is full")
		return false, nil, nil
	}
	leftBehind := s.leaveLocked(p, true)
	r.add(p)
	p.room = r
	others := r.membersExcept(p)
	if s.bus != nil {
		p.joinedAt = time.Now().UnixNano()
		delete(r.remote, p.id) // an id resumed here after its server went away
		s.bus.publish(name, busEvent{kind: evJoin, peer: p.id, at: p.joinedAt, msg: out})
	}
	nrooms := len(s.rooms) - 1
	s.metrics.rooms.Set(float64(nrooms))
	// The answer is queued before the lock is released, so it reaches p
	// ahead of anything a peer joining after it sends (its peer-joined,
	// its join), which p's answer does not list.
	p.enqueue(encode(signal.Message{Type: signal.TypeJoined, ID: p.id, Room: name, Peers: r.peerIDs(p)}))
	s.mu.Unlock()

	left := encode(signal.Message{Type: signal.TypePeerLeft, Peer: p.id, Room: old.name})
	for _, o := range leftBehind {
		o.enqueue(left)
	}
	came := encode(signal.Message{Type: signal.TypePeerJoined, Peer: p.id, Room: name})
	for _, o := range others {
		o.enqueue(came)
	}
	s.log.Info("signal: joined", "peer", p.id, "room", name, "members", len(others)+1, "rooms", nrooms)
	return true, others, out
}

// idInUseLocked reports whether a connected peer has id. Called with
// s.mu held.
func (s *Server) idInUseLocked(id string) bool {
	for q := range s.peers {
		if q.id == id {
			return true
		}
	}
	return false
}

// validID accepts ids of the shape the server makes, and no longer.
func validID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// leaveLocked takes p out of its room, removing the room when it empties,
// and returns who should hear that it left; with publish, other servers
// hear it too. Called with s.mu held.
//
// Arrivals in the default room are not announced, so a peer that never
// sent anything there is unknown to its members and leaves silently:
// otherwise every client that connects and joins a named room would
// message every client still in the default room.
func (s *Server) leaveLocked(p *peer, publish bool) []*peer {
	r := p.room
	if r == nil {
		return nil
	}
	r.remove(p)
	p.room = nil
	announce := r.name != "" || p.heard
	if publish {
		s.publishLocked(r.name, busEvent{kind: evLeave, peer: p.id, announce: announce})
	}
	if _, ok := r.remote[p.id]; ok {
		// Its client is already back on another server: here only an old
		// connection ended.
		announce = false
	}
	if len(r.members) == 0 && r.name != "" && r.entering == 0 {
		s.removeRoomLocked(r)
	}
	if !announce {
		return nil
	}
	p.heard = false
	return r.membersExcept(p)
}

// addPeer registers p in the default room. It reports false, and
// whether the server is closed, when the server is closed or full. On
// success it has added one to s.wg for the caller.
func (s *Server) addPeer(p *peer) (closed, ok bool) {
	s.mu.Lock()
	if s.closed || len(s.peers) >= s.cfg.maxConnections() {
		closed = s.closed
		s.mu.Unlock()
		return closed, false
	}
	s.wg.Add(1)
	s.peers[p] = struct{}{}
	def := s.rooms[""]
	def.add(p)
	p.room = def
	if s.bus != nil {
		p.joinedAt = time.Now().UnixNano()
		s.bus.publish("", busEvent{kind: evJoin, peer: p.id, at: p.joinedAt})
	}
	n := len(s.peers)
	s.mu.Unlock()
	s.metrics.connections.Set(float64(n))
	s.log.Info("signal: connected", "peer", p.id, "connections", n)
	return false, true
}

// removePeer takes p out of the server, and when announce is set tells
// its room it left.
func (s *Server) removePeer(p *peer, announce bool) {
	s.mu.Lock()
	r := p.room
	closing := s.closed
	stayed := s.leaveLocked(p, !closing)
	delete(s.peers, p)
	n, nrooms := len(s.peers), len(s.rooms)-1
	id := p.id
	s.mu.Unlock()
	s.metrics.connections.Set(float64(n))
	s.metrics.rooms.Set(float64(nrooms))
	// A server going away is not a peer leaving: its clients reconnect
	// (elsewhere) and keep their peers.
	if r == nil || closing || !announce {
		return
	}
	left := encode(signal.Message{Type: signal.TypePeerLeft, Peer: id, Room: r.name})
	for _, o := range stayed {
		o.enqueue(left)
	}
}

// refuse tells p why its message went nowhere.
func (s *Server) refuse(p *peer, code, reason string) {
	s.metrics.refusals.WithLabelValues(code).Inc()
	p.enqueue(encode(signal.Message{Type: signal.TypeError, Code: code, Reason: reason}))
}

// refuseRate answers at most one rate-limited error a second, so that a
// flood does not turn into a flood of errors.
func (s *Server) refuseRate(p *peer) {
	s.metrics.refusals.WithLabelValues(signal.CodeRateLimited).Inc()
	now := time.Now()
	p.mu.Lock()
	tell := now.Sub(p.lastRateE) >= time.Second
	if tell {
		p.lastRateE = now
	}
	p.mu.Unlock()
	if tell {
		s.log.Warn("signal: rate limit exceeded", "peer", p.id)
		p.enqueue(encode(signal.Message{Type: signal.TypeError, Code: signal.CodeRateLimited, Reason: "too many messages"}))
	}
}

func ids(ps []*peer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}
