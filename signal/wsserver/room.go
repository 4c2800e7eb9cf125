package wsserver

import (
	"cmp"
	"slices"
)

// room is a set of peers that see each other's messages. Rooms are
// created on first join and removed when their last member leaves; the
// default room "" always exists.
type room struct {
	name    string
	members map[*peer]uint64 // the order in which each joined
	joins   uint64
	// snap lists the members for routing; nil after a change until the
	// next message needs it. A snapshot is never modified, so it can be
	// used after srv.mu is released.
	snap []*peer

	// With a bus only: the members on other servers, by id; whether the
	// room's subscription is open (ready is closed then) or being opened;
	// joiners waiting for it, which keep the room from being removed; and
	// how to unsubscribe.
	remote   map[string]remotePeer
	opened   bool
	opening  bool
	ready    chan struct{}
	entering int
	unsub    func()
}

func newRoom(name string) *room { return &room{name: name, members: map[*peer]uint64{}} }

// newRoom makes a room, ready for the bus when there is one.
func (s *Server) newRoom(name string) *room {
	r := newRoom(name)
	if s.bus != nil {
		r.remote = map[string]remotePeer{}
		r.ready = make(chan struct{})
	}
	return r
}

// add and remove change the membership. Called with srv.mu held.
func (r *room) add(p *peer) {
	r.joins++
	r.members[p] = r.joins
	r.snap = nil
}

func (r *room) remove(p *peer) {
	delete(r.members, p)
	r.snap = nil
}

// list returns every member, the sender included, without allocating
// while the membership is unchanged. Called with srv.mu held; the slice
// must not be modified.
func (r *room) list() []*peer {
	if r.snap == nil {
		r.snap = make([]*peer, 0, len(r.members))
		for m := range r.members {
			r.snap = append(r.snap, m)
		}
	}
	return r.snap
}

// membersExcept returns the room's members other than p, in the order
// they joined (a joiner's "peers", oldest first: a robot offers to the
// newest). Called with srv.mu held; the slice is the caller's.
func (r *room) membersExcept(p *peer) []*peer {
	out := make([]*peer, 0, len(r.members))
	for m := range r.members {
		if m != p {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *peer) int { return cmp.Compare(r.members[a], r.members[b]) })
	return out
}

func (r *room) find(id string) *peer {
	for m := range r.members {
		if m.id == id {
			return m
		}
	}
	return nil
}
