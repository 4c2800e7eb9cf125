package rtclink

import (
	"time"

	"github.com/pion/rtp"
)

// assembler rebuilds whole video frames from RTP packets and releases
// each frame the moment its last packet (the marker bit) and every packet
// before it are in: it never waits for the next frame to begin. Packets
// that arrive out of order are held in a short window so NACK
// retransmissions can fill gaps; a gap still open after maxWait is given
// up on, and the frames until the next keyframe are dropped.
type assembler struct {
	isHead  func(payload []byte) bool // the packet can start a frame
	depack  func(payload []byte) ([]byte, error)
	isKey   func(frame []byte) bool
	maxWait time.Duration

	buf      [window]*slot
	started  bool
	next     uint16 // first sequence number not yet released
	needKey  bool
	gaveUp   int
	frameBuf []byte
}

const window = 512

type slot struct {
	pkt     *rtp.Packet
	head    bool
	arrived time.Time
}

// push adds one packet and returns the complete frames it releases, in
// order.
func (a *assembler) push(p *rtp.Packet, now time.Time) [][]byte {
	head := len(p.Payload) > 0 && a.isHead(p.Payload)
	if !a.started {
		if !head {
			return nil // join the stream at a frame start
		}
		a.started, a.next = true, p.SequenceNumber
	}
	d := int16(p.SequenceNumber - a.next)
	if d < 0 {
		return nil // late duplicate or given up on
	}
	if int(d) >= window {
		// Far ahead of a gap we still hold: give up on everything before.
		a.skipTo(p.SequenceNumber)
		d = 0
	}
	a.buf[p.SequenceNumber%window] = &slot{pkt: p, head: head, arrived: now}
	return a.release(now)
}

func (a *assembler) release(now time.Time) [][]byte {
	var out [][]byte
	for {
		f, ok := a.frameAt(a.next)
		if ok {
			if f != nil {
				out = append(out, f)
			}
			continue
		}
		if !a.stale(now) {
			return out
		}
		a.giveUp()
	}
}

// frameAt tries to take the frame starting at seq. ok is false when it is
// not complete yet; a nil frame with ok means one was dropped for want of
// a keyframe.
func (a *assembler) frameAt(seq uint16) ([]byte, bool) {
	first := a.buf[seq%window]
	if first == nil || first.pkt.SequenceNumber != seq {
		return nil, false
	}
	if !first.head {
		// The rest of a frame whose start was given up on.
		a.buf[seq%window] = nil
		a.next++
		a.needKey = true
		return nil, true
	}
	ts := first.pkt.Timestamp
	n := 0
	for s := seq; ; s++ {
		sl := a.buf[s%window]
		if sl == nil || sl.pkt.SequenceNumber != s || sl.pkt.Timestamp != ts {
			return nil, false
		}
		n++
		if sl.pkt.Marker {
			break
		}
		if n >= window {
			return nil, false
		}
	}
	frame := a.frameBuf[:0]
	broken := false
	for i := 0; i < n; i++ {
		s := seq + uint16(i)
		b, err := a.depack(a.buf[s%window].pkt.Payload)
		broken = broken || err != nil
		frame = append(frame, b...)
		a.buf[s%window] = nil
	}
	a.next = seq + uint16(n)
	if broken {
		a.gaveUp++
		a.needKey = true
		a.frameBuf = frame
		return nil, true
	}
	if a.needKey && !a.isKey(frame) {
		a.frameBuf = frame
		return nil, true
	}
	a.needKey = false
	out := make([]byte, len(frame))
	copy(out, frame)
	a.frameBuf = frame
	return out, true
}

// stale reports whether the packet after the gap at next has waited
// longer than maxWait.
func (a *assembler) stale(now time.Time) bool {
	for i := 0; i < window; i++ {
		s := a.next + uint16(i)
		if sl := a.buf[s%window]; sl != nil && sl.pkt.SequenceNumber == s {
			return now.Sub(sl.arrived) > a.maxWait
		}
	}
	return false
}

// giveUp drops the frame at next and moves to the next frame start held.
func (a *assembler) giveUp() {
	a.gaveUp++
	a.needKey = true
	for i := 1; i < window; i++ {
		s := a.next + uint16(i)
		if sl := a.buf[s%window]; sl != nil && sl.pkt.SequenceNumber == s && sl.head {
			a.dropBefore(s)
			return
		}
	}
	// No frame start held, only the rest of the broken frame: drop it and
	// take the next frame start that comes. Skipping the whole window
	// instead would drop the next few hundred packets as late ones.
	last := a.next
	for i := 0; i < window; i++ {
		s := a.next + uint16(i)
		if sl := a.buf[s%window]; sl != nil && sl.pkt.SequenceNumber == s {
			last = s + 1
		}
	}
	a.dropBefore(last)
}

func (a *assembler) skipTo(seq uint16) {
	a.gaveUp++
	a.needKey = true
	a.dropBefore(seq)
}

func (a *assembler) dropBefore(seq uint16) {
	for s := a.next; s != seq; s++ {
		a.buf[s%window] = nil
	}
	a.next = seq
}
