package rtclink

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// counters are the session's running totals, written by its goroutines.
type counters struct {
	videoOut struct {
		encoded, stale, dropped, encodeNanos atomic.Int64
		plisReceived, keyframesOnPLI, nacks  atomic.Int64
		targetBitrate                        atomic.Int64
	}
	videoIn struct {
		packets, lost, bytes       atomic.Int64
		received, decoded, givenUp atomic.Int64
		decodeNanos, plisSent      atomic.Int64
	}
	audioIn struct {
		packets, lost, bytes, decoded atomic.Int64
	}
	connects, iceRestarts atomic.Int64
	estimate              atomic.Int64
	resend                resendCounters

	mu   sync.Mutex
	prev Stats
}

// Stats is a snapshot of a session, grouped by what it describes. Rates
// cover the time since the previous call to Stats (or since the session
// started, for the first call).
type Stats struct {
	// At is when the snapshot was taken.
	At time.Time
	// State is the peer connection's state; StateNone without one.
	State State

	// Room is the signaling room: its name, this session's id and how
	// many others are there.
	Room RoomStats
	// Transport is the network path: candidate types, round trip and
	// bytes on the wire.
	Transport TransportStats
	// VideoOut is the video sent, all tracks together and each on its
	// own.
	VideoOut VideoOutStats
	// VideoIn is the video received.
	VideoIn VideoInStats
	// AudioOut is the audio sent.
	AudioOut AudioOutStats
	// AudioIn is the audio received.
	AudioIn AudioInStats
}

// RoomStats is what the session knows of its signaling room.
type RoomStats struct {
	// Name is the room the server says this session joined, and ID the
	// session's id there.
	Name, ID string
	// Announced is true when the server answered the join; without it
	// (the original deployment's Node.js server) Peers is unknown.
	Announced bool
	// Peers is the number of other peers in the room.
	Peers int
}

// TransportStats describes the network path.
type TransportStats struct {
	// LocalCandidate and RemoteCandidate are the types of the selected
	// pair: host, srflx, prflx or relay.
	LocalCandidate, RemoteCandidate string
	// RTT is the ICE round-trip time of the selected pair.
	RTT time.Duration
	// BytesSent and BytesReceived count everything on the ICE transport
	// of the current peer connection.
	BytesSent, BytesReceived uint64
	// BitrateOut and BitrateIn are in bits per second.
	BitrateOut, BitrateIn float64
	// Connects counts the times a peer connection came up; ICERestarts
	// the ICE restarts this side asked for.
	Connects, ICERestarts int64
	// EstimatedBitrate is congestion control's estimate of what the path
	// carries, in bits per second of RTP (headers included): 0 without
	// an estimate. The video gets what audio leaves of it
	// (VideoOut.TargetBitrate).
	EstimatedBitrate int
}

// VideoOutStats describes the video this session sends.
type VideoOutStats struct {
	// FramesEncoded counts frames the encoder took, FramesSent encoded
	// frames put on the wire. A frame captured but never sent is counted
	// once, with its reason: FramesStale when a newer one replaced it
	// before the encoder took it (the encoder was behind), FramesDropped
	// when the encoder's rate control skipped it or it could not be
	// written. Each is logged at debug level.
	FramesEncoded, FramesSent, FramesStale, FramesDropped int64
	// Bytes counts RTP payload bytes sent.
	Bytes uint64
	// FPS is frames sent per second.
	FPS float64
	// TargetBitrate is what congestion control last asked of the
	// encoders, all tracks together (0 without an estimate), in bits per
	// second.
	TargetBitrate int
	// Tracks has each video track's own figures, in the order they were
	// added, when the session sends more than one; the other fields add
	// them up.
	Tracks []VideoTrackStats
	// EncodeTime is the mean time to encode a frame.
	EncodeTime time.Duration
	// PLIsReceived counts the peer's picture-loss requests,
	// KeyframesOnPLI the keyframes granted to them (at most four a
	// second), NACKsReceived its retransmission requests.
	PLIsReceived, KeyframesOnPLI, NACKsReceived int64
	// PacketsResent counts packets sent again at the peer's request.
	// ResendsStale counts requests left unanswered because the packet
	// was first sent too long ago to help (over a second), ResendsCapped
	// those over the retransmission budget (a fifth of the target
	// bitrate).
	PacketsResent, ResendsStale, ResendsCapped int64
}

// VideoTrackStats describes one of several video tracks a session sends.
type VideoTrackStats struct {
	// Name is the track's VideoSender.Name.
	Name string
	// FramesSent and Bytes count encoded frames and RTP payload bytes put
	// on the wire.
	FramesSent int64
	Bytes      uint64
	// TargetBitrate is the track's share of the congestion controller's
	// target, in bits per second.
	TargetBitrate int
}

// VideoInStats describes the video this session receives.
type VideoInStats struct {
	// PacketsLost counts sequence numbers still missing, net of late and
	// retransmitted packets.
	PacketsReceived, PacketsLost int64
	// Bytes counts RTP payload bytes received.
	Bytes uint64
	// FramesReceived counts complete frames reassembled, FramesDecoded
	// those the decoder turned into pictures, FramesGivenUp those lost
	// for good.
	FramesReceived, FramesDecoded, FramesGivenUp int64
	// FPS is frames decoded per second.
	FPS float64
	// DecodeTime is the mean time to decode a frame.
	DecodeTime time.Duration
	// PLIsSent counts picture-loss requests sent to the peer.
	PLIsSent int64
}

// AudioOutStats describes the audio this session sends.
type AudioOutStats struct {
	// FramesSent counts encoded audio frames put on the wire.
	FramesSent int64
	// Bytes counts RTP payload bytes sent.
	Bytes uint64
}

// AudioInStats describes the audio this session receives.
type AudioInStats struct {
	// PacketsReceived counts RTP packets received; PacketsLost counts
	// sequence numbers still missing, net of packets that arrived late.
	PacketsReceived, PacketsLost int64
	// Bytes counts RTP payload bytes received.
	Bytes uint64
	// FramesDecoded counts decoded blocks, concealed ones included.
	FramesDecoded int64
}

// Stats returns the session's current figures. It does not block on the
// network.
func (s *PeerSession) Stats() Stats {
	st := Stats{At: time.Now()}
	c := &s.stats
	s.mediaMu.Lock()
	for _, v := range s.videos {
		t := VideoTrackStats{Name: v.cfg.name(), FramesSent: v.tr.frames.Load(), Bytes: uint64(v.tr.bytes.Load()), TargetBitrate: int(v.target.Load())}
		st.VideoOut.FramesSent += t.FramesSent
		st.VideoOut.Bytes += t.Bytes
		if len(s.videos) > 1 {
			st.VideoOut.Tracks = append(st.VideoOut.Tracks, t)
		}
	}
	if s.audio != nil {
		st.AudioOut.FramesSent = s.audio.tr.frames.Load()
		st.AudioOut.Bytes = uint64(s.audio.tr.bytes.Load())
	}
	s.mediaMu.Unlock()

	vo := &st.VideoOut
	vo.FramesEncoded = c.videoOut.encoded.Load()
	vo.FramesStale = c.videoOut.stale.Load()
	vo.FramesDropped = c.videoOut.dropped.Load()
	vo.TargetBitrate = int(c.videoOut.targetBitrate.Load())
	st.Transport.EstimatedBitrate = int(c.estimate.Load())
	vo.PLIsReceived = c.videoOut.plisReceived.Load()
	vo.KeyframesOnPLI = c.videoOut.keyframesOnPLI.Load()
	vo.NACKsReceived = c.videoOut.nacks.Load()
	vo.PacketsResent = c.resend.resent.Load()
	vo.ResendsStale = c.resend.stale.Load()
	vo.ResendsCapped = c.resend.capped.Load()
	if n := vo.FramesEncoded; n > 0 {
		vo.EncodeTime = time.Duration(c.videoOut.encodeNanos.Load() / n)
	}

	vi := &st.VideoIn
	vi.PacketsReceived = c.videoIn.packets.Load()
	vi.PacketsLost = c.videoIn.lost.Load()
	vi.Bytes = uint64(c.videoIn.bytes.Load())
	vi.FramesReceived = c.videoIn.received.Load()
	vi.FramesDecoded = c.videoIn.decoded.Load()
	vi.FramesGivenUp = c.videoIn.givenUp.Load()
	vi.PLIsSent = c.videoIn.plisSent.Load()
	if n := vi.FramesDecoded; n > 0 {
		vi.DecodeTime = time.Duration(c.videoIn.decodeNanos.Load() / n)
	}

	ai := &st.AudioIn
	ai.PacketsReceived = c.audioIn.packets.Load()
	ai.PacketsLost = c.audioIn.lost.Load()
	ai.Bytes = uint64(c.audioIn.bytes.Load())
	ai.FramesDecoded = c.audioIn.decoded.Load()

	st.Transport.Connects = c.connects.Load()
	st.Transport.ICERestarts = c.iceRestarts.Load()
	if pc, room, ok := s.loopView(); ok {
		st.Room = room
		if pc != nil {
			st.State = pc.ConnectionState()
			fillFromTransport(&st.Transport, pc)
		}
	}

	c.mu.Lock()
	prev := c.prev
	c.prev = st
	c.mu.Unlock()
	if dt := st.At.Sub(prev.At).Seconds(); dt > 0 {
		t, pt := &st.Transport, &prev.Transport
		t.BitrateOut = float64(t.BytesSent-min(pt.BytesSent, t.BytesSent)) * 8 / dt
		t.BitrateIn = float64(t.BytesReceived-min(pt.BytesReceived, t.BytesReceived)) * 8 / dt
		vo.FPS = float64(vo.FramesSent-prev.VideoOut.FramesSent) / dt
		vi.FPS = float64(vi.FramesDecoded-prev.VideoIn.FramesDecoded) / dt
	}
	return st
}

// loopView asks the loop for its peer connection and room.
func (s *PeerSession) loopView() (*webrtc.PeerConnection, RoomStats, bool) {
	if s.closed.Load() {
		return nil, RoomStats{}, false
	}
	type view struct {
		pc   *webrtc.PeerConnection
		room RoomStats
	}
	ch := make(chan view, 1)
	s.post(func() {
		v := view{room: RoomStats{Name: s.room.name, ID: s.selfID, Announced: s.sawJoined, Peers: s.room.peers()}}
		if s.link != nil {
			v.pc = s.link.pc
		}
		ch <- v
	})
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
	defer cancel()
	select {
	case v := <-ch:
		return v.pc, v.room, true
	case <-ctx.Done():
		return nil, RoomStats{}, false
	}
}

// fillFromTransport reads the selected pair and byte counts from the ICE
// transport. pc.GetStats is avoided: it races with pion closing the peer
// connection by itself after a DTLS failure.
func fillFromTransport(st *TransportStats, pc *webrtc.PeerConnection) {
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
		slog.String("state", st.State.String()),
		slog.Int("room_peers", st.Room.Peers),
		slog.String("pair", st.Transport.LocalCandidate+"/"+st.Transport.RemoteCandidate),
		slog.Duration("rtt", st.Transport.RTT),
		slog.Int("kbps_out", int(st.Transport.BitrateOut/1000)),
		slog.Int("kbps_in", int(st.Transport.BitrateIn/1000)),
		slog.Int("target_kbps", st.VideoOut.TargetBitrate/1000),
		slog.Float64("fps_sent", float64(int(st.VideoOut.FPS*10))/10),
		slog.Float64("fps_decoded", float64(int(st.VideoIn.FPS*10))/10),
		slog.Int64("lost", st.VideoIn.PacketsLost+st.AudioIn.PacketsLost),
		slog.Int64("given_up", st.VideoIn.FramesGivenUp),
		slog.Int64("stale", st.VideoOut.FramesStale),
		slog.Int64("dropped", st.VideoOut.FramesDropped),
		slog.Int64("resent", st.VideoOut.PacketsResent),
		slog.Int64("plis_in", st.VideoOut.PLIsReceived),
		slog.Int64("plis_out", st.VideoIn.PLIsSent),
		slog.Duration("encode", st.VideoOut.EncodeTime),
		slog.Duration("decode", st.VideoIn.DecodeTime),
	)
}
