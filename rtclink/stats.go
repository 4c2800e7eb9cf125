package rtclink

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

type counters struct {
	framesEncoded, framesStale                   atomic.Int64
	encodeNanos, decodeNanos                     atomic.Int64
	framesReceived, framesDecoded, framesGivenUp atomic.Int64
	audioFramesDecoded, packetsIn, packetsLost   atomic.Int64
	plisSent, plisReceived, keyframesOnPLI       atomic.Int64
	nacksReceived                                atomic.Int64
	connects, iceRestarts                        atomic.Int64
	targetBitrate                                atomic.Int64

	mu   sync.Mutex
	prev Stats
}

// Stats is a snapshot of a session. Rates cover the time since the
// previous call to Session.Stats (or since the session started).
type Stats struct {
	// At is when the snapshot was taken.
	At time.Time
	// State is the peer connection's state ("" without one).
	State string
	// LocalCandidate and RemoteCandidate are the types of the selected
	// pair: host, srflx, prflx or relay.
	LocalCandidate, RemoteCandidate string
	// RTT is the ICE round-trip time of the selected pair.
	RTT time.Duration

	BytesSent, BytesReceived uint64
	// BitrateOut and BitrateIn are in bits per second.
	BitrateOut, BitrateIn float64
	// TargetBitrate is what congestion control last asked of the video
	// encoder (0 without an estimate).
	TargetBitrate int

	// FramesSent counts encoded video frames put on the wire;
	// FramesStale those replaced before the encoder took them.
	FramesSent, FramesEncoded, FramesStale int64
	// FramesReceived counts complete frames reassembled, FramesDecoded
	// those the decoder turned into pictures, FramesGivenUp those lost
	// for good.
	FramesReceived, FramesDecoded, FramesGivenUp int64
	AudioFramesDecoded                           int64
	FPSSent, FPSDecoded                          float64
	// EncodeTime and DecodeTime are means per video frame.
	EncodeTime, DecodeTime time.Duration

	// PacketsLost counts sequence numbers still missing, net of late and
	// retransmitted packets.
	PacketsReceived, PacketsLost int64
	// NACKsReceived counts the peer's retransmission requests.
	NACKsReceived int64
	// PLIsSent and PLIsReceived count picture-loss requests;
	// KeyframesOnPLI the keyframes granted to them (at most four a second).
	PLIsSent, PLIsReceived int64
	KeyframesOnPLI         int64
	Connects, ICERestarts  int64
}

// Stats returns the session's current figures. It does not block on the
// network.
func (s *Session) Stats() Stats {
	st := Stats{At: time.Now()}
	c := &s.stats
	s.mediaMu.Lock()
	if s.video != nil {
		st.FramesSent = s.video.tr.frames.Load()
	}
	s.mediaMu.Unlock()
	st.FramesEncoded = c.framesEncoded.Load()
	st.FramesStale = c.framesStale.Load()
	st.FramesReceived = c.framesReceived.Load()
	st.FramesDecoded = c.framesDecoded.Load()
	st.FramesGivenUp = c.framesGivenUp.Load()
	st.AudioFramesDecoded = c.audioFramesDecoded.Load()
	st.PacketsReceived = c.packetsIn.Load()
	st.PacketsLost = c.packetsLost.Load()
	st.PLIsSent = c.plisSent.Load()
	st.PLIsReceived = c.plisReceived.Load()
	st.KeyframesOnPLI = c.keyframesOnPLI.Load()
	st.NACKsReceived = c.nacksReceived.Load()
	st.Connects = c.connects.Load()
	st.ICERestarts = c.iceRestarts.Load()
	st.TargetBitrate = int(c.targetBitrate.Load())
	if n := st.FramesEncoded; n > 0 {
		st.EncodeTime = time.Duration(c.encodeNanos.Load() / n)
	}
	if n := st.FramesDecoded; n > 0 {
		st.DecodeTime = time.Duration(c.decodeNanos.Load() / n)
	}
	if pc := s.currentPC(); pc != nil {
		st.State = pc.ConnectionState().String()
		fillFromTransport(&st, pc)
	}

	c.mu.Lock()
	prev := c.prev
	c.prev = st
	c.mu.Unlock()
	if !prev.At.IsZero() {
		if dt := st.At.Sub(prev.At).Seconds(); dt > 0 {
			st.BitrateOut = float64(st.BytesSent-min(prev.BytesSent, st.BytesSent)) * 8 / dt
			st.BitrateIn = float64(st.BytesReceived-min(prev.BytesReceived, st.BytesReceived)) * 8 / dt
			st.FPSSent = float64(st.FramesSent-prev.FramesSent) / dt
			st.FPSDecoded = float64(st.FramesDecoded-prev.FramesDecoded) / dt
		}
	}
	return st
}

// currentPC asks the loop for its peer connection.
func (s *Session) currentPC() *webrtc.PeerConnection {
	if s.closed.Load() {
		return nil
	}
	ch := make(chan *webrtc.PeerConnection, 1)
	s.post(func() {
		if s.link != nil {
			ch <- s.link.pc
		} else {
			ch <- nil
		}
	})
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	select {
	case pc := <-ch:
		return pc
	case <-ctx.Done():
		return nil
	}
}

// fillFromTransport reads the selected pair and byte counts from the ICE
// transport. pc.GetStats is avoided: it races with pion closing the peer
// connection by itself after a DTLS failure.
func fillFromTransport(st *Stats, pc *webrtc.PeerConnection) {
	sctp := pc.SCTP()
	if sctp == nil || sctp.Transport() == nil {
		return
	}
	ice := sctp.Transport().ICETransport()
	if ice == nil {
		return
	}
	ts := ice.Stats()
	st.BytesSent, st.BytesReceived = ts.BytesSent, ts.BytesReceived
	// Until ICE starts, pion writes the transport's gatherer without a
	// lock that the selected-pair getters take: ask only once started.
	if ice.State() == webrtc.ICETransportStateNew {
		return
	}
	if pair, err := ice.GetSelectedCandidatePair(); err == nil && pair != nil {
		st.LocalCandidate = pair.Local.Typ.String()
		st.RemoteCandidate = pair.Remote.Typ.String()
	}
	if ps, ok := ice.GetSelectedCandidatePairStats(); ok {
		st.RTT = time.Duration(ps.CurrentRoundTripTime * float64(time.Second))
	}
}

// LogValue makes a Stats print as a compact group of its main figures in
// a slog line.
func (st Stats) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("state", st.State),
		slog.String("pair", st.LocalCandidate+"/"+st.RemoteCandidate),
		slog.Duration("rtt", st.RTT),
		slog.Int("kbps_out", int(st.BitrateOut/1000)),
		slog.Int("kbps_in", int(st.BitrateIn/1000)),
		slog.Int("target_kbps", st.TargetBitrate/1000),
		slog.Float64("fps_sent", float64(int(st.FPSSent*10))/10),
		slog.Float64("fps_decoded", float64(int(st.FPSDecoded*10))/10),
		slog.Int64("lost", st.PacketsLost),
		slog.Int64("given_up", st.FramesGivenUp),
		slog.Int64("plis_in", st.PLIsReceived),
		slog.Int64("plis_out", st.PLIsSent),
		slog.Duration("encode", st.EncodeTime),
		slog.Duration("decode", st.DecodeTime),
	)
}
