package signal

// room is a set of peers that see each other's messages. Rooms are
// created on first join and removed when their last member leaves; the
// default room "" always exists.
type room struct {
	name    string
	members map[*peer]struct{}
}

// membersExcept returns the room's members other than p. Called with
// srv.mu held; the slice is the caller's.
func (r *room) membersExcept(p *peer) []*peer {
	out := make([]*peer, 0, len(r.members))
	for m := range r.members {
		if m != p {
			out = append(out, m)
		}
	}
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
