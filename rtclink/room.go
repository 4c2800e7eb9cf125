package rtclink

import (
	"slices"

	"github.com/avlink/avlink/signal"
)

// roomView is what the session knows of its signaling room, from the
// server's joined, peer-joined and peer-left messages. It belongs to the
// session loop.
type roomView struct {
	name    string
	members []string
}

func (r *roomView) joined(m signal.Message) {
	r.name = m.Room
	r.members = slices.Clone(m.Peers)
}

func (r *roomView) add(peer string) {
	if peer != "" && !slices.Contains(r.members, peer) {
		r.members = append(r.members, peer)
	}
}

func (r *roomView) remove(peer string) {
	r.members = slices.DeleteFunc(r.members, func(p string) bool { return p == peer })
}

// peers is the number of other peers in the room.
func (r *roomView) peers() int { return len(r.members) }
