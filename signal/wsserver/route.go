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
	var joinedWith []*peer
	if joined {
		name := ""
		if env.Room != nil {
			name = *env.Room
		}
		ok, others := s.join(p, name, env.ID)
		if !ok {
			return
		}
		joinedWith = others
	}
	out := withSender(data, p.id, env.hasSender)

	s.mu.Lock()
	r := p.room
	var to *peer
	var all []*peer // may hold p, who is skipped
	switch {
	case env.To != "":
		if to = r.find(env.To); to == p {
			to = nil
		}
	case joined:
		// The members the peer joined, as they were at that moment: a
		// peer that comes in later has its own joined answer listing this
		// one, and must not hear this join after it.
		all = joinedWith
	default:
		all = r.list()
	}
	if r.name == "" && (to != nil || len(all) > 1 || len(all) == 1 && all[0] != p) {
		p.heard = true
	}
	s.mu.Unlock()

	receivers := 0
	switch {
	case env.To != "" && to == nil:
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
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("signal: forwarded", "peer", p.id, "type", env.Type, "room", r.name, "receivers", receivers)
	}
}

// join moves p into the named room, telling the old room it left and the
// new one it came, and returns the room's other members at that moment.
// It reports false, after telling p why, when the room is full or no more
// rooms may be made.
func (s *Server) join(p *peer, name, resume string) (bool, []*peer) {
	s.mu.Lock()
	if resume != "" && resume != p.id && validID(resume) && !s.idInUseLocked(resume) {
		// A client back after a dropped connection keeps its id, so its
		// peers' sessions still know it.
		s.log.Info("signal: resumed id", "conn", p.conn, "peer", resume)
		p.id = resume
	}
	old := p.room
	if old != nil && old.name == name {
		others := old.membersExcept(p)
		p.enqueue(encode(signal.Message{Type: signal.TypeJoined, ID: p.id, Room: name, Peers: ids(others)}))
		s.mu.Unlock()
		return true, others
	}
	r := s.rooms[name]
	if r == nil && len(s.rooms)-1 >= s.cfg.maxRooms() { // the default room is not counted
		s.mu.Unlock()
		s.refuse(p, signal.CodeTooManyRooms, "no more rooms can be made")
		return false, nil
	}
	if r != nil && name != "" && len(r.members) >= s.cfg.maxPeersPerRoom() {
		s.mu.Unlock()
		s.refuse(p, signal.CodeRoomFull, "room "+name+" is full")
		return false, nil
	}
	if r == nil {
		r = newRoom(name)
		s.rooms[name] = r
	}
	leftBehind := s.leaveLocked(p)
	r.add(p)
	p.room = r
	others := r.membersExcept(p)
	nrooms := len(s.rooms) - 1
	s.metrics.rooms.Set(float64(nrooms))
	// The answer is queued before the lock is released, so it reaches p
	// ahead of anything a peer joining after it sends (its peer-joined,
	// its join), which p's answer does not list.
	p.enqueue(encode(signal.Message{Type: signal.TypeJoined, ID: p.id, Room: name, Peers: ids(others)}))
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
	return true, others
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
// and returns who should hear that it left. Called with s.mu held.
//
// Arrivals in the default room are not announced, so a peer that never
// sent anything there is unknown to its members and leaves silently:
// otherwise every client that connects and joins a named room would
// message every client still in the default room.
func (s *Server) leaveLocked(p *peer) []*peer {
	r := p.room
	if r == nil {
		return nil
	}
	r.remove(p)
	p.room = nil
	if len(r.members) == 0 && r.name != "" {
		delete(s.rooms, r.name)
	}
	if r.name == "" && !p.heard {
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
	stayed := s.leaveLocked(p)
	delete(s.peers, p)
	n, nrooms := len(s.peers), len(s.rooms)-1
	closing := s.closed
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
