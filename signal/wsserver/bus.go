package wsserver

import (
	"cmp"
	"slices"

	"github.com/avlink/avlink/signal"
)

// bus carries a room's events to the servers beside this one, so that a
// room's members may be spread over several. Without one (Config.NATS
// nil) rooms live in one process and nothing here runs.
//
// Events of one room published by one server reach every other server
// subscribed to the room in the order they were published. A server never
// receives its own events.
type bus interface {
	// open subscribes to room's events, handing them to h one at a time,
	// and asks every live server for the room's members; it returns once
	// each has answered, or after a bound. The returned func unsubscribes.
	open(room string, h func(busEvent)) (func(), error)
	// publish sends e for room.
	publish(room string, e busEvent)
	// close stops the bus: no heartbeats, no subscriptions.
	close()
}

// busServer is what a bus asks of its Server.
type busServer interface {
	// serverGone forgets the peers of a server unheard for too long.
	serverGone(id string)
	// announceAll publishes a members event for every room with local
	// members, for a server that has just (re)appeared.
	announceAll()
	// announceRoom publishes a members event for room, answering nonce.
	announceRoom(room, nonce string)
}

// Kinds of bus events.
const (
	evMessage = 'm' // msg from peer, to one peer (to) or the room
	evJoin    = 'j' // peer joined; msg, when set, is its join message
	evLeave   = 'l' // peer left; announce says whether members hear it
	evMembers = 's' // ids are all the server's members of the room
)

// busEvent is one event of a room. Server is filled in by the bus.
type busEvent struct {
	kind     byte
	server   string
	peer     string
	to       string
	announce bool
	nonce    string
	at       int64 // join: when, in Unix nanoseconds
	members  []member
	msg      []byte
}

// member is a peer in a members event: its id and when it joined.
type member struct {
	id string
	at int64
}

// remotePeer is a member of a room on another server.
type remotePeer struct {
	server string
	at     int64 // when it joined, by its server's clock
}

// openRoom subscribes r to the bus, once. It is called without s.mu by
// the first joiner; the others wait on r.ready.
func (s *Server) openRoom(r *room) {
	unsub, err := s.bus.open(r.name, func(e busEvent) { s.remoteEvent(r, e) })
	if err != nil {
		s.log.Warn("signal: room not shared with other servers", "room", r.name, "err", err)
	}
	s.mu.Lock()
	r.unsub, r.opened = unsub, true
	if s.rooms[r.name] != r && unsub != nil {
		// Emptied and removed while opening (a failed join).
		unsub()
		r.unsub = nil
	}
	s.mu.Unlock()
	close(r.ready)
}

// removeRoomLocked drops an empty room. Called with s.mu held.
func (s *Server) removeRoomLocked(r *room) {
	delete(s.rooms, r.name)
	if r.unsub != nil {
		r.unsub()
		r.unsub = nil
	}
}

// publishLocked sends e when there is a bus. Membership events are sent
// with s.mu held, so that every server sees a room's joins, leaves and
// member lists in the order they happened here.
func (s *Server) publishLocked(room string, e busEvent) {
	if s.bus != nil {
		s.bus.publish(room, e)
	}
}

// remoteEvent applies an event from another server to r.
func (s *Server) remoteEvent(r *room, e busEvent) {
	s.mu.Lock()
	if s.rooms[r.name] != r {
		s.mu.Unlock() // an old subscription's last events
		return
	}
	var (
		to   []*peer
		msgs [][]byte
	)
	switch e.kind {
	case evMessage:
		if e.to != "" {
			if p := r.find(e.to); p != nil {
				to = []*peer{p}
			}
		} else {
			to = r.list()
		}
		msgs = [][]byte{e.msg}
	case evJoin:
		// A peer still connected here under that id too is an old
		// connection its client has left: messages to the id still go to
		// it until it ends, and its end is not announced (leaveLocked).
		//
		// A peer already known here, from a server it left without a
		// word, is announced again, as a resumed id is on one server.
		rp, known := r.remote[e.peer]
		r.remote[e.peer] = remotePeer{server: e.server, at: e.at}
		to = r.list()
		if (!known || rp.server != e.server) && r.name != "" {
			msgs = append(msgs, encode(signal.Message{Type: signal.TypePeerJoined, Peer: e.peer, Room: r.name}))
		}
		if len(e.msg) > 0 {
			msgs = append(msgs, e.msg)
		}
	case evLeave:
		if rp, ok := r.remote[e.peer]; ok && rp.server == e.server {
			delete(r.remote, e.peer)
			if e.announce && r.find(e.peer) == nil {
				to = r.list()
				msgs = [][]byte{encode(signal.Message{Type: signal.TypePeerLeft, Peer: e.peer, Room: r.name})}
			}
		}
	case evMembers:
		came, left := r.reconcile(e.server, e.members)
		if r.name != "" && len(came)+len(left) > 0 {
			to = r.list()
			for _, id := range left {
				msgs = append(msgs, encode(signal.Message{Type: signal.TypePeerLeft, Peer: id, Room: r.name}))
			}
			for _, id := range came {
				msgs = append(msgs, encode(signal.Message{Type: signal.TypePeerJoined, Peer: id, Room: r.name}))
			}
		}
	}
	s.mu.Unlock()
	for _, m := range msgs {
		for _, p := range to {
			p.enqueue(m)
		}
	}
}

// reconcile makes server's entries in r.remote exactly ms, and returns
// those added and removed. Called with s.mu held.
func (r *room) reconcile(server string, ms []member) (came, left []string) {
	want := make(map[string]bool, len(ms))
	for _, m := range ms {
		want[m.id] = true
		if rp, ok := r.remote[m.id]; ok && rp.server == server {
			continue
		}
		if _, ok := r.remote[m.id]; !ok {
			came = append(came, m.id)
		}
		r.remote[m.id] = remotePeer{server: server, at: m.at}
	}
	for id, rp := range r.remote {
		if rp.server == server && !want[id] {
			delete(r.remote, id)
			if r.find(id) == nil {
				left = append(left, id)
			}
		}
	}
	return came, left
}

// serverGone announces the peers of a silent server as left.
func (s *Server) serverGone(id string) {
	type gone struct {
		to  []*peer
		msg []byte
	}
	var out []gone
	s.mu.Lock()
	for _, r := range s.rooms {
		for pid, rp := range r.remote {
			if rp.server != id {
				continue
			}
			delete(r.remote, pid)
			if r.name != "" && r.find(pid) == nil {
				out = append(out, gone{r.list(), encode(signal.Message{Type: signal.TypePeerLeft, Peer: pid, Room: r.name})})
			}
		}
	}
	s.mu.Unlock()
	if len(out) > 0 {
		s.log.Info("signal: server unheard, its peers left", "server", id, "peers", len(out))
	}
	for _, g := range out {
		for _, p := range g.to {
			p.enqueue(g.msg)
		}
	}
}

func (s *Server) announceAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rooms {
		if r.unsub != nil {
			s.bus.publish(r.name, busEvent{kind: evMembers, members: r.localMembers()})
		}
	}
}

func (s *Server) announceRoom(room, nonce string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []member
	if r := s.rooms[room]; r != nil {
		ms = r.localMembers()
	}
	s.bus.publish(room, busEvent{kind: evMembers, nonce: nonce, members: ms})
}

// localMembers lists r's local members. Called with s.mu held.
func (r *room) localMembers() []member {
	out := make([]member, 0, len(r.members))
	for p := range r.members {
		out = append(out, member{p.id, p.joinedAt})
	}
	return out
}

// peerIDs lists r's members other than p, local and remote, in the order
// they joined. Called with s.mu held.
func (r *room) peerIDs(p *peer) []string {
	if len(r.remote) == 0 {
		return ids(r.membersExcept(p))
	}
	// By the joining servers' clocks: as good as they agree.
	all := make([]member, 0, len(r.members)+len(r.remote))
	for q := range r.members {
		if q != p {
			all = append(all, member{q.id, q.joinedAt})
		}
	}
	for id, rp := range r.remote {
		if q := r.find(id); q == nil {
			all = append(all, member{id, rp.at})
		}
	}
	slices.SortFunc(all, func(a, b member) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.id
	}
	return out
}
