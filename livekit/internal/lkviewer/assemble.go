package lkviewer

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// lossWait is how long a missing packet is waited for (the server
// resends it on a NACK) before its frame is given up.
const lossWait = 150 * time.Millisecond

// maxPending bounds the packets held while one is missing.
const maxPending = 512

// assembler rebuilds VP8 frames from RTP packets that may arrive out of
// order or twice. A frame is complete, and returned at once, when every
// packet from its first (the partition head) to its marker is in: unlike
// pion's samplebuilder it does not wait for the next frame's first
// packet, which would add a frame interval to every latency.
type assembler struct {
	pending map[uint16]*rtp.Packet
	head    uint16 // sequence number of the next frame's first packet
	started bool
	stuck   time.Time // when head was first found missing; zero if not
}

func newAssembler() *assembler { return &assembler{pending: map[uint16]*rtp.Packet{}} }

// push adds pkt, received at now, and returns the frames it completes,
// in order. lost reports that frames were given up before them: the
// decoder then needs a keyframe.
func (a *assembler) push(pkt *rtp.Packet, now time.Time) (frames [][]byte, lost bool) {
	if !a.started {
		if !isHead(pkt) {
			return nil, false
		}
		a.head, a.started = pkt.SequenceNumber, true
	}
	if int16(pkt.SequenceNumber-a.head) < 0 {
		return nil, false // late duplicate, or before the first frame
	}
	a.pending[pkt.SequenceNumber] = pkt
	for len(a.pending) > 0 {
		f, st := a.take()
		switch st {
		case complete:
			frames = append(frames, f)
			a.stuck = time.Time{}
			continue
		case incomplete:
			// A packet is missing: wait for a resend, within bounds.
			if a.stuck.IsZero() {
				a.stuck = now
			}
			if now.Sub(a.stuck) < lossWait && len(a.pending) < maxPending {
				return frames, lost
			}
		}
		// Given up, or packets at head that start no frame.
		lost, a.stuck = true, time.Time{}
		if !a.skip() {
			break
		}
	}
	return frames, lost
}

type status int

const (
	complete   status = iota
	incomplete        // a packet of the frame at head is still missing
	invalid           // the packets at head do not make a frame
)

// take returns the frame starting at head if all of it is in.
func (a *assembler) take() ([]byte, status) {
	first, ok := a.pending[a.head]
	if !ok {
		return nil, incomplete
	}
	if !isHead(first) {
		return nil, invalid
	}
	end := a.head
	for {
		p, ok := a.pending[end]
		if !ok {
			return nil, incomplete
		}
		if p.Timestamp != first.Timestamp {
			return nil, invalid
		}
		if p.Marker {
			break
		}
		end++
	}
	var frame []byte
	for s := a.head; ; s++ {
		var vp codecs.VP8Packet
		if payload, err := vp.Unmarshal(a.pending[s].Payload); err == nil {
			frame = append(frame, payload...)
		}
		delete(a.pending, s)
		if s == end {
			break
		}
	}
	a.head = end + 1
	if len(frame) == 0 {
		return nil, invalid
	}
	return frame, complete
}

// skip moves head to the nearest pending frame start after it, dropping
// what lies before. It reports false, and forgets every packet, when
// none is pending.
func (a *assembler) skip() bool {
	best, found := uint16(0), false
	for s, p := range a.pending {
		d := s - a.head
		if int16(d) > 0 && isHead(p) && (!found || d < best-a.head) {
			best, found = s, true
		}
	}
	if !found {
		clear(a.pending)
		a.started = false
		return false
	}
	for s := range a.pending {
		if int16(s-best) < 0 {
			delete(a.pending, s)
		}
	}
	a.head = best
	return true
}

// isHead reports whether p carries the start of a VP8 frame.
func isHead(p *rtp.Packet) bool {
	var vp codecs.VP8Packet
	if _, err := vp.Unmarshal(p.Payload); err != nil {
		return false
	}
	return vp.S == 1 && vp.PID == 0
}
