package cli

import (
	"encoding/json"
	"flag"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// statsJSON is -stats-json, honoured by Run.
var statsJSON = flag.String("stats-json", "",
	"on exit (Ctrl-C, SIGTERM or the end of the session) write the session's final stats to this file as JSON")

// StatsFile is what -stats-json writes when the program exits: the
// session's final figures, for scripts and tests.
type StatsFile struct {
	// Started is when the program had joined its room (connected to the
	// signaling server), Ended when these stats were taken.
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Connected is when the peer connection first reached "connected",
	// FirstFrame when the first video frame reached the sink (decoded, or
	// as received when not decoding); absent when it never happened.
	Connected  time.Time `json:"connected,omitzero"`
	FirstFrame time.Time `json:"first_frame,omitzero"`
	// LastFrame is when the last video frame reached the sink: a pause
	// still going on at the end shows as Ended minus LastFrame, not in
	// Gaps.
	LastFrame time.Time `json:"last_frame,omitzero"`
	// State is the peer connection's state at the end: "" when there was
	// none (no peer, or the peer had left).
	State string `json:"state"`
	// Pair is the selected candidate pair at the end or, when the call
	// had ended by then (the peer left first), when it last connected.
	Pair StatsPair `json:"pair"`
	// RTTMillis is the selected pair's ICE round-trip time, from the
	// same moment.
	RTTMillis float64 `json:"rtt_ms"`
	// BitrateOut and BitrateIn are the bits per second the ICE agent
	// wrote to and read from the network over the last five whole
	// seconds: UDP and TCP payload, TURN and TLS framing included.
	BitrateOut float64 `json:"bitrate_out"`
	BitrateIn  float64 `json:"bitrate_in"`

	VideoIn  StatsVideoIn  `json:"video_in"`
	AudioIn  StatsAudioIn  `json:"audio_in"`
	VideoOut StatsVideoOut `json:"video_out"`
	AudioOut StatsAudioOut `json:"audio_out"`

	// LongestGapMillis is the longest time between two video frames in a
	// row reaching the sink, after the first. Gaps are the gaps of
	// GapMillis or more, oldest first (the last 1000).
	LongestGapMillis float64    `json:"longest_gap_ms"`
	Gaps             []StatsGap `json:"gaps"`
	// Seconds holds one entry per second since Started (the last hour's).
	Seconds []StatsSecond `json:"seconds"`
}

// StatsPair is the selected candidate pair.
type StatsPair struct {
	// Local and Remote are the candidate types: host, srflx, prflx or
	// relay.
	Local  string `json:"local"`
	Remote string `json:"remote"`
	// RelayTransport is how this side reaches its TURN server when Local
	// is relay: udp, tcp, tls or dtls (the connection to a TURN server
	// that carried the most bytes in the last few seconds).
	RelayTransport string `json:"relay_transport,omitempty"`
}

// StatsVideoIn is the video received.
type StatsVideoIn struct {
	PacketsReceived int64 `json:"packets_received"`
	PacketsLost     int64 `json:"packets_lost"`
	FramesReceived  int64 `json:"frames_received"`
	FramesDecoded   int64 `json:"frames_decoded"`
	FramesGivenUp   int64 `json:"frames_given_up"`
	// FPS is frames reaching the sink per second over the last five
	// whole seconds.
	FPS float64 `json:"fps"`
}

// StatsAudioIn is the audio received.
type StatsAudioIn struct {
	PacketsReceived int64 `json:"packets_received"`
	PacketsLost     int64 `json:"packets_lost"`
	// FramesDecoded counts decoded blocks, concealed ones included.
	FramesDecoded int64 `json:"frames_decoded"`
}

// StatsVideoOut is the video sent.
type StatsVideoOut struct {
	FramesSent int64 `json:"frames_sent"`
	// FPS is frames sent per second since Connected.
	FPS float64 `json:"fps"`
	// TargetBitrate is congestion control's last target for the video,
	// and EstimatedBitrate its estimate of what the path carries (all
	// RTP sent, audio too), in bits per second.
	TargetBitrate    int `json:"target_bitrate"`
	EstimatedBitrate int `json:"estimated_bitrate"`
	// FramesDropped counts frames the encoder's rate control skipped or
	// that could not be written, FramesStale frames a newer capture
	// replaced before the encoder took them.
	FramesDropped  int64 `json:"frames_dropped"`
	FramesStale    int64 `json:"frames_stale"`
	NACKsReceived  int64 `json:"nacks_received"`
	PacketsResent  int64 `json:"packets_resent"`
	PLIsReceived   int64 `json:"plis_received"`
	KeyframesOnPLI int64 `json:"keyframes_on_pli"`
}

// StatsAudioOut is the audio sent.
type StatsAudioOut struct {
	PacketsSent int64 `json:"packets_sent"`
}

// StatsGap is a pause in the video: Start is when the last frame before
// it reached the sink.
type StatsGap struct {
	Start  time.Time `json:"start"`
	Millis float64   `json:"ms"`
}

// StatsSecond is one second of the session, counted from Started: T is
// its number (0 is the first second), BytesOut and BytesIn what the ICE
// agent wrote and read in it, Frames the video frames that reached the
// sink.
type StatsSecond struct {
	T        int   `json:"t"`
	BytesOut int64 `json:"bytes_out"`
	BytesIn  int64 `json:"bytes_in"`
	Frames   int64 `json:"frames"`

	turn [numTURN]int64 // bytes both ways on connections to TURN servers
}

// GapMillis is the shortest pause between video frames that StatsFile
// lists in Gaps.
const GapMillis = 100

const (
	maxSeconds = 3600
	maxGaps    = 1000
)

// How a connection the ICE agent opened reaches the network: a UDP socket
// of its own (direct traffic and STUN), or a connection to a TURN server.
const (
	connDirect = iota - 1
	turnUDP
	turnTCP
	turnTLS
	turnDTLS
	numTURN
)

var turnNames = [numTURN]string{"udp", "tcp", "tls", "dtls"}

// statsRecorder counts what a session sends, receives and shows for
// -stats-json. A nil *statsRecorder does nothing.
type statsRecorder struct {
	path    string
	started time.Time
	session atomic.Pointer[rtclink.Session]

	mu         sync.Mutex
	seconds    []StatsSecond
	connected  time.Time
	firstFrame time.Time
	lastFrame  time.Time
	longest    time.Duration
	gaps       []StatsGap
	lastPair   StatsPair // as seen when the call last connected
	lastRTT    time.Duration
}

// recordStats prepares cfg for -stats-json when it is set: the ICE agent's
// network, the video sink and OnState are wrapped to count what passes
// them. It returns nil when the flag is not set.
func recordStats(cfg *rtclink.Config) *statsRecorder {
	if *statsJSON == "" {
		return nil
	}
	r := &statsRecorder{path: *statsJSON, started: time.Now()}
	base := cfg.Net
	if base == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return r // counted nothing on the wire; the rest still works
		}
		base = n
	}
	cfg.Net = &countingNet{Net: base, rec: r}
	if rv := cfg.ReceiveVideo; rv != nil {
		v := *rv
		if vs, ok := v.Sink.(playback.VideoSink); ok && v.NewDecoder != nil {
			v.Sink = timedVideoSink{vs, r}
		} else if ss, ok := v.Sink.(playback.SampleSink); ok && v.NewDecoder == nil {
			v.Sink = timedSampleSink{ss, r}
		}
		cfg.ReceiveVideo = &v
	}
	onState := cfg.OnState
	cfg.OnState = func(st rtclink.State) {
		if st == rtclink.StateConnected {
			r.mu.Lock()
			if r.connected.IsZero() {
				r.connected = time.Now()
			}
			r.mu.Unlock()
			// Not on the session's own goroutine, which this is; and
			// after a second of media, which tells the relay's
			// transport.
			time.AfterFunc(time.Second, r.notePair)
		}
		if onState != nil {
			onState(st)
		}
	}
	return r
}

// second returns the entry for now, adding entries up to it. Called with
// r.mu held.
func (r *statsRecorder) second(now time.Time) *StatsSecond {
	t := max(int(now.Sub(r.started)/time.Second), 0)
	if n := len(r.seconds); n > 0 && t < r.seconds[n-1].T {
		t = r.seconds[n-1].T // taken before a later count got the lock
	}
	for len(r.seconds) == 0 || r.seconds[len(r.seconds)-1].T < t {
		next := 0
		if n := len(r.seconds); n > 0 {
			next = r.seconds[n-1].T + 1
		}
		if t-next > maxSeconds {
			next = t - maxSeconds
		}
		r.seconds = append(r.seconds, StatsSecond{T: next})
	}
	if len(r.seconds) > maxSeconds+maxSeconds/6 {
		r.seconds = append([]StatsSecond(nil), r.seconds[len(r.seconds)-maxSeconds:]...)
	}
	return &r.seconds[len(r.seconds)-1]
}

// wire counts bytes written (out) and read (in) on a connection of kind
// class.
func (r *statsRecorder) wire(class int, out, in int) {
	if out <= 0 && in <= 0 {
		return
	}
	out, in = max(out, 0), max(in, 0)
	r.mu.Lock()
	s := r.second(time.Now())
	s.BytesOut += int64(out)
	s.BytesIn += int64(in)
	if class >= 0 {
		s.turn[class] += int64(out + in)
	}
	r.mu.Unlock()
}

// frame notes a video frame reaching the sink.
func (r *statsRecorder) frame() {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.second(now).Frames++
	if r.firstFrame.IsZero() {
		r.firstFrame = now
	} else if gap := now.Sub(r.lastFrame); gap > 0 {
		r.longest = max(r.longest, gap)
		if gap >= GapMillis*time.Millisecond {
			if len(r.gaps) == maxGaps {
				r.gaps = append(r.gaps[:0], r.gaps[1:]...)
			}
			r.gaps = append(r.gaps, StatsGap{Start: r.lastFrame, Millis: millis(gap)})
		}
	}
	r.lastFrame = now
}

// follow gives r the session its stats are about.
func (r *statsRecorder) follow(s rtclink.Session) {
	if r != nil {
		r.session.Store(&s)
	}
}

// notePair keeps the pair of a call that has just connected, for the
// file when the call is over by the end.
func (r *statsRecorder) notePair() {
	s := r.session.Load()
	if s == nil {
		return
	}
	st := (*s).Stats()
	if st.Transport.LocalCandidate == "" {
		return
	}
	p := r.pairOf(st)
	r.mu.Lock()
	r.lastPair, r.lastRTT = p, st.Transport.RTT
	r.mu.Unlock()
}

// pairOf is st's selected pair, with the relay's transport when this
// side relays: the connection to a TURN server that carried the most
// bytes in the last five whole seconds, or in the current one at first.
func (r *statsRecorder) pairOf(st rtclink.Stats) StatsPair {
	p := StatsPair{Local: st.Transport.LocalCandidate, Remote: st.Transport.RemoteCandidate}
	if p.Local != "relay" {
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := int(st.At.Sub(r.started) / time.Second)
	var turn [numTURN]int64
	for _, s := range r.seconds {
		if s.T >= now-5 && s.T <= now {
			for i := range turn {
				turn[i] += s.turn[i]
			}
		}
	}
	best := -1
	for i, n := range turn {
		if n > 0 && (best < 0 || n > turn[best]) {
			best = i
		}
	}
	if best >= 0 {
		p.RelayTransport = turnNames[best]
	}
	return p
}

// write takes the session's final stats and writes them to the
// -stats-json file.
func (r *statsRecorder) write(log *slog.Logger) {
	if r == nil {
		return
	}
	s := r.session.Load()
	if s == nil {
		return
	}
	f := r.file((*s).Stats())
	data, err := json.MarshalIndent(f, "", "  ")
	if err == nil {
		tmp := r.path + ".tmp"
		if err = os.WriteFile(tmp, append(data, '\n'), 0o644); err == nil {
			err = os.Rename(tmp, r.path)
		}
	}
	if err != nil {
		log.Error("stats not written", "file", r.path, "err", err)
		return
	}
	abs, _ := filepath.Abs(r.path)
	log.Info("stats written", "file", abs)
}

// file assembles the StatsFile from st and what r counted.
func (r *statsRecorder) file(st rtclink.Stats) StatsFile {
	pair, rtt := r.pairOf(st), st.Transport.RTT
	r.mu.Lock()
	defer r.mu.Unlock()
	if pair.Local == "" {
		pair, rtt = r.lastPair, r.lastRTT
	}
	f := StatsFile{
		Started:    r.started,
		Ended:      st.At,
		Connected:  r.connected,
		FirstFrame: r.firstFrame,
		LastFrame:  r.lastFrame,
		Pair:       pair,
		RTTMillis:  millis(rtt),
		VideoIn: StatsVideoIn{
			PacketsReceived: st.VideoIn.PacketsReceived, PacketsLost: st.VideoIn.PacketsLost,
			FramesReceived: st.VideoIn.FramesReceived, FramesDecoded: st.VideoIn.FramesDecoded,
			FramesGivenUp: st.VideoIn.FramesGivenUp,
		},
		AudioIn: StatsAudioIn{PacketsReceived: st.AudioIn.PacketsReceived, PacketsLost: st.AudioIn.PacketsLost, FramesDecoded: st.AudioIn.FramesDecoded},
		VideoOut: StatsVideoOut{
			FramesSent: st.VideoOut.FramesSent, TargetBitrate: st.VideoOut.TargetBitrate, EstimatedBitrate: st.Transport.EstimatedBitrate, FramesDropped: st.VideoOut.FramesDropped,
			FramesStale:   st.VideoOut.FramesStale,
			NACKsReceived: st.VideoOut.NACKsReceived, PacketsResent: st.VideoOut.PacketsResent,
			PLIsReceived: st.VideoOut.PLIsReceived, KeyframesOnPLI: st.VideoOut.KeyframesOnPLI,
		},
		AudioOut:         StatsAudioOut{PacketsSent: st.AudioOut.FramesSent},
		LongestGapMillis: millis(r.longest),
		Gaps:             append([]StatsGap{}, r.gaps...),
		Seconds:          append([]StatsSecond{}, r.seconds...),
	}
	if st.State != rtclink.StateNone {
		f.State = st.State.String()
	}
	if !r.connected.IsZero() {
		if d := st.At.Sub(r.connected).Seconds(); d > 0 {
			f.VideoOut.FPS = float64(st.VideoOut.FramesSent) / d
		}
	}
	// The last five whole seconds: the current one is partly counted.
	now := int(st.At.Sub(r.started) / time.Second)
	var out, in, frames int64
	for _, s := range r.seconds {
		if s.T >= now-5 && s.T < now {
			out, in, frames = out+s.BytesOut, in+s.BytesIn, frames+s.Frames
		}
	}
	if span := min(now, 5); span > 0 {
		f.BitrateOut = float64(out) * 8 / float64(span)
		f.BitrateIn = float64(in) * 8 / float64(span)
		f.VideoIn.FPS = float64(frames) / float64(span)
	}
	return f
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// timedVideoSink and timedSampleSink note each video frame that reaches
// the sink they wrap.
type timedVideoSink struct {
	playback.VideoSink
	rec *statsRecorder
}

func (s timedVideoSink) WriteVideo(f *capture.VideoFrame) error {
	s.rec.frame()
	return s.VideoSink.WriteVideo(f)
}

type timedSampleSink struct {
	playback.SampleSink
	rec *statsRecorder
}

func (s timedSampleSink) WriteSample(c capture.Codec, smp *capture.Sample) error {
	s.rec.frame()
	return s.SampleSink.WriteSample(c, smp)
}

// countingNet is the ICE agent's network with every byte its connections
// carry counted. The agent's own UDP sockets keep their allocation-free
// reads and writes (ReadFromAddrPort, WriteToAddrPort); only the ECN
// marks the agent could read from a bare socket are lost, which the
// congestion controller here (delay-based GCC) does not use.
type countingNet struct {
	transport.Net
	rec *statsRecorder
}

func (n *countingNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &countedUDP{UDPConn: c, rec: n.rec, class: connDirect}, nil
}

// ListenPacket is how the ICE agent opens its socket to a TURN server
// over UDP.
func (n *countingNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &countedPacket{PacketConn: c, rec: n.rec}, nil
}

// DialUDP is how the ICE agent reaches a TURN server over DTLS.
func (n *countingNet) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.DialUDP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	return &countedUDP{UDPConn: c, rec: n.rec, class: turnDTLS}, nil
}

// DialTCP is how the ICE agent reaches a TURN server over TCP or TLS.
func (n *countingNet) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	c, err := n.Net.DialTCP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	t := &countedTCP{TCPConn: c, rec: n.rec}
	t.class.Store(-1)
	return t, nil
}

type countedUDP struct {
	transport.UDPConn
	rec   *statsRecorder
	class int
}

func (c *countedUDP) Read(b []byte) (int, error) {
	n, err := c.UDPConn.Read(b)
	c.rec.wire(c.class, 0, n)
	return n, err
}

func (c *countedUDP) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.UDPConn.ReadFrom(b)
	c.rec.wire(c.class, 0, n)
	return n, a, err
}

func (c *countedUDP) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	n, a, err := c.UDPConn.ReadFromUDP(b)
	c.rec.wire(c.class, 0, n)
	return n, a, err
}

func (c *countedUDP) ReadMsgUDP(b, oob []byte) (int, int, int, *net.UDPAddr, error) {
	n, oobn, flags, a, err := c.UDPConn.ReadMsgUDP(b, oob)
	c.rec.wire(c.class, 0, n)
	return n, oobn, flags, a, err
}

func (c *countedUDP) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	if u, ok := c.UDPConn.(*net.UDPConn); ok {
		n, a, err := u.ReadFromUDPAddrPort(b)
		c.rec.wire(c.class, 0, n)
		return n, a, err
	}
	n, a, err := c.ReadFrom(b)
	var ap netip.AddrPort
	if ua, ok := a.(*net.UDPAddr); ok {
		ap = ua.AddrPort()
	}
	return n, ap, err
}

func (c *countedUDP) Write(b []byte) (int, error) {
	n, err := c.UDPConn.Write(b)
	c.rec.wire(c.class, n, 0)
	return n, err
}

func (c *countedUDP) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.UDPConn.WriteTo(b, a)
	c.rec.wire(c.class, n, 0)
	return n, err
}

func (c *countedUDP) WriteToUDP(b []byte, a *net.UDPAddr) (int, error) {
	n, err := c.UDPConn.WriteToUDP(b, a)
	c.rec.wire(c.class, n, 0)
	return n, err
}

func (c *countedUDP) WriteMsgUDP(b, oob []byte, a *net.UDPAddr) (int, int, error) {
	n, oobn, err := c.UDPConn.WriteMsgUDP(b, oob, a)
	c.rec.wire(c.class, n, 0)
	return n, oobn, err
}

func (c *countedUDP) WriteToAddrPort(b []byte, a netip.AddrPort) (int, error) {
	if u, ok := c.UDPConn.(*net.UDPConn); ok {
		n, err := u.WriteToUDPAddrPort(b, a)
		c.rec.wire(c.class, n, 0)
		return n, err
	}
	return c.WriteTo(b, net.UDPAddrFromAddrPort(a))
}

type countedPacket struct {
	net.PacketConn
	rec *statsRecorder
}

func (c *countedPacket) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	c.rec.wire(turnUDP, 0, n)
	return n, a, err
}

func (c *countedPacket) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, a)
	c.rec.wire(turnUDP, n, 0)
	return n, err
}

// countedTCP tells TLS from plain TURN by the first byte written: a TLS
// handshake record is 0x16, a STUN message starts with two zero bits.
type countedTCP struct {
	transport.TCPConn
	rec   *statsRecorder
	class atomic.Int32
}

func (c *countedTCP) kind(first []byte) int {
	k := int(c.class.Load())
	if k < 0 && len(first) > 0 {
		k = turnTCP
		if first[0] == 0x16 {
			k = turnTLS
		}
		if !c.class.CompareAndSwap(-1, int32(k)) {
			k = int(c.class.Load())
		}
	}
	return max(k, turnTCP)
}

func (c *countedTCP) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	c.rec.wire(c.kind(nil), 0, n)
	return n, err
}

func (c *countedTCP) Write(b []byte) (int, error) {
	n, err := c.TCPConn.Write(b)
	c.rec.wire(c.kind(b), n, 0)
	return n, err
}

// StatsJSON records what -stats-json writes, for a program that makes
// and runs its session itself instead of through Run.
type StatsJSON struct{ r *statsRecorder }

// RecordStatsJSON prepares cfg for -stats-json, as Run does. When the
// flag is not set it changes nothing and the StatsJSON does nothing.
func RecordStatsJSON(cfg *rtclink.Config) StatsJSON { return StatsJSON{recordStats(cfg)} }

// Follow gives the recorder the session made from the prepared Config.
func (s StatsJSON) Follow(session rtclink.Session) { s.r.follow(session) }

// Write writes the session's final stats to the -stats-json file; call it
// before closing the session.
func (s StatsJSON) Write(log *slog.Logger) { s.r.write(log) }
