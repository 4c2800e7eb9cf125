package rtclink

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// maxResendAge is how long after a packet was first sent a retransmission
// of it may still help: longer than any receiver waits for a missing
// packet before it gives up on the frame (ours after 150 ms, a browser's
// jitter buffer within a second). Older requests, such as those for a
// whole network cut's worth of packets, are not answered.
const maxResendAge = time.Second

// resendShare is the part of the congestion controller's target that
// retransmissions may add, so that loss never multiplies the sent bitrate.
const resendShare = 0.2

// resendHistory is how many packets per stream the guard remembers.
const resendHistory = 1024

// resendGuard sits between pion's NACK responder and the network, on
// every stream the session sends. A packet whose sequence number is not
// newer than the newest already sent is a retransmission: it goes out
// only while its first sending is recent enough to matter and the
// retransmission budget allows.
//
// The receiving side asks for a missing packet every 100 ms, at most
// maxNacksPerPacket times, rather than on a timer from the round-trip
// time: pion's NACK generator offers only a fixed interval. Where the
// round trip is longer than that, a packet may be asked for again before
// its first re-sending arrives; the cap bounds those duplicates.
//
// Nor does the receiver hold back its requests after a network cut (it
// asks for every packet it missed, and a keyframe once it gives up on a
// frame). The bound on a cut's backlog is here, at the sender: requests
// for packets first sent over maxResendAge ago are dropped, and what is
// re-sent is capped at resendShare of the target, so a cut's worth of
// requests never turns into a burst.
type resendGuard struct {
	interceptor.NoOp
	budget *resendBudget
	c      *resendCounters
}

type resendCounters struct {
	resent, stale, capped atomic.Int64
}

type sentPacket struct {
	seq uint16
	at  time.Time
}

type streamHistory struct {
	mu      sync.Mutex
	started bool
	highest uint16
	sent    [resendHistory]sentPacket
}

func (g *resendGuard) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	h := &streamHistory{}
	return interceptor.RTPWriterFunc(func(hdr *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		now := time.Now()
		seq := hdr.SequenceNumber
		slot := &h.sent[int(seq)%resendHistory]
		h.mu.Lock()
		if !h.started || int16(seq-h.highest) > 0 {
			h.started, h.highest = true, seq
			*slot = sentPacket{seq: seq, at: now}
			h.mu.Unlock()
			return w.Write(hdr, payload, a)
		}
		first := *slot
		h.mu.Unlock()
		n := hdr.MarshalSize() + len(payload)
		switch {
		case first.seq != seq || first.at.IsZero() || now.Sub(first.at) > maxResendAge:
			g.c.stale.Add(1)
			return n, nil
		case !g.budget.take(n, now):
			g.c.capped.Add(1)
			return n, nil
		}
		g.c.resent.Add(1)
		return w.Write(hdr, payload, a)
	})
}

// resendBudget is a token bucket of bytes filled at resendShare of the
// current target bitrate, holding at most a quarter of a second of it.
type resendBudget struct {
	target func() int // bits per second

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (b *resendBudget) take(n int, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	rate := resendShare * float64(b.target()) / 8 // bytes per second
	burst := max(rate/4, 1500)
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+rate*now.Sub(b.last).Seconds())
	}
	b.last = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

type resendGuardFactory struct {
	budget *resendBudget
	c      *resendCounters
}

func (f resendGuardFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &resendGuard{budget: f.budget, c: f.c}, nil
}
