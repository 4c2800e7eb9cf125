package rtclink

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/signal"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// Role says which side makes the offers.
type Role int

const (
	// Answerer waits for offers and answers them: the viewer, the
	// receiver. It is the zero value.
	Answerer Role = iota
	// Offerer offers to the peers of its room: the robot, as in the
	// original deployment, whose Python aiortc robot made the offers.
	Offerer
)

// String returns "offerer" or "answerer".
func (r Role) String() string {
	if r == Offerer {
		return "offerer"
	}
	return "answerer"
}

// ICEServer is a STUN or TURN server, as in webrtc.ICEServer: URLs such as
// "stun:host:3478" or "turn:host:3478?transport=udp", with Username and
// Credential for TURN.
type ICEServer = webrtc.ICEServer

// VideoSender sends one video track from a raw source through an encoder,
// or from a source of already-encoded samples.
type VideoSender struct {
	// Source and Encoder: raw frames, converted to I420 when needed.
	Source  capture.VideoSource
	Encoder capture.VideoEncoder
	// Samples replaces Source and Encoder for pre-encoded video (an IVF
	// file, a hardware H.264 encoder, a capture/broadcast reader). Its
	// samples go out untouched; one that implements
	// capture.KeyframeSource is asked for a keyframe when a viewer
	// connects and when a viewer asks for one, and one that implements
	// capture.BitrateFollower is told the congestion controller's target.
	Samples capture.SampleSource
	// MinBitrate and MaxBitrate clamp the congestion controller's
	// estimate before it reaches the encoder. 0 means 100 kbit/s and
	// 2.5 Mbit/s; negative values are refused.
	MinBitrate, MaxBitrate int
	// StartBitrate is the first target, raised or lowered into
	// MinBitrate..MaxBitrate. 0 means 500 kbit/s.
	StartBitrate int
	// Playout asks a receiver that understands the playout-delay RTP
	// header extension (browsers) to render frames at once. The zero
	// value does so for a live Source and not for Samples.
	Playout Playout
	// Name is the track's id as the peer sees it: the viewer page shows
	// it on the video's tile. Empty means "video". A session's video
	// tracks (Config.Video, Config.MoreVideo, AddVideo) each need their
	// own.
	Name string
}

// name returns the track's id.
func (v *VideoSender) name() string {
	if v.Name == "" {
		return "video"
	}
	return v.Name
}

// AudioSender sends one audio track. Blocks from Source are resampled and
// cut to the encoder's frame size.
type AudioSender struct {
	Source  capture.AudioSource
	Encoder capture.AudioEncoder
	// Samples replaces Source and Encoder for pre-encoded audio (an Ogg
	// file).
	Samples capture.SampleSource
}

// VideoReceiver takes the remote video track. Each frame goes to the
// decoder the moment its last packet completes it. Samples given to a
// SampleSink, and decoded frames whose decoder leaves Time zero (as
// playback/vp8's does), carry as Time the arrival of that last packet.
type VideoReceiver struct {
	// Track picks the peer's video track of that name (its
	// VideoSender.Name, for an avlink peer). Empty means the first video
	// track of each call. Other video tracks are read and dropped.
	Track string
	// NewDecoder makes a decoder for the codec the peer sends, such as
	// playback/vp8's Factory(vp8.DecoderConfig{}). Nil means no
	// decoding: Sink must then be a playback.SampleSink. A decoder that
	// implements playback.KeyframeRequester gets a keyframe when it asks.
	NewDecoder func(capture.Codec) (playback.VideoDecoder, error)
	// Sink is a playback.VideoSink (decoded frames) or a
	// playback.SampleSink (complete encoded frames).
	Sink playback.Sink
}

// AudioReceiver takes the remote audio track. Lost packets (up to five in
// a row) are concealed by the decoder. Samples and decoded blocks carry
// their arrival time as Time.
type AudioReceiver struct {
	NewDecoder func(capture.Codec) (playback.AudioDecoder, error)
	// Sink is a playback.AudioSink, or a playback.SampleSink for
	// undecoded packets.
	Sink playback.Sink
}

// Config configures a [Session]. Only Signaler is required.
type Config struct {
	// Signaler carries offers, answers and candidates.
	Signaler signal.Signaler
	// Role is Answerer (the zero value) or Offerer.
	Role Role

	// ICEServers lists STUN and TURN servers. Empty means host
	// candidates only: no public server is assumed.
	ICEServers []ICEServer
	// RelayOnly uses TURN relay candidates only.
	RelayOnly bool
	// NoTrickle puts every candidate inside the offer or answer and sends
	// no candidate messages, for peers that ignore them. Incoming
	// candidates are always accepted.
	NoTrickle bool

	// Video and Audio are what this side sends; nil sends nothing.
	Video *VideoSender
	Audio *AudioSender
	// MoreVideo sends more cameras beside Video (a wrist camera, a depth
	// view), each on its own track with its own Name. Congestion
	// control's estimate is shared among the video tracks in proportion
	// to their MaxBitrate. It needs Video.
	MoreVideo []*VideoSender
	// ReceiveVideo and ReceiveAudio take what the peer sends; nil ignores
	// it.
	ReceiveVideo *VideoReceiver
	ReceiveAudio *AudioReceiver

	// DataChannels makes the offerer open two data channels, Reliable
	// (ordered, retransmitted) and Unreliable (unordered, never
	// retransmitted). Channels lists more for the offerer to open. Either
	// side accepts every channel its peer opens, whatever its label.
	DataChannels bool
	Channels     []ChannelConfig
	// OnData receives every message of every data channel, with the
	// channel's label, on one goroutine per channel.
	OnData func(ch Channel, data []byte)

	// OnChannel is called when a data channel opens (open true) and
	// when it closes or its call ends (open false), with its label, from
	// the same goroutine as OnState and in order with it. A program that
	// must stop something when a channel goes (a teleop deadman) hears it
	// here.
	OnChannel func(ch Channel, open bool)

	// OnState is called with every connection state change, from one
	// goroutine in order.
	OnState func(State)

	// DisableCongestionControl keeps the video encoder at StartBitrate
	// instead of following the GCC estimate.
	DisableCongestionControl bool

	// DisconnectedGrace is how long the connection may stay
	// "disconnected" before the offerer restarts ICE. ICE often recovers
	// by itself, so restarting at once would flap. 0 means 4 s; a
	// negative value is refused.
	DisconnectedGrace time.Duration

	// IncludeLoopback gathers 127.0.0.1 candidates too, for peers on the
	// same host with no other interface (containers, CI).
	IncludeLoopback bool

	// Net is the network the session's ICE agent uses. Nil means the
	// host's, with a TCP or TLS dial to a TURN server given up after 5 s
	// or when the session closes (pion's own dial has no bound); tests
	// pass a pion vnet.
	Net transport.Net
	// Logger receives negotiation and connection events. Pion's own
	// messages arrive through it too: its debug and info at debug level,
	// and the warnings and errors every normal call produces (a ping
	// before any candidate pair, RTCP for a stream not yet bound, the
	// messages of a connection being closed) at debug level as well; other
	// warnings and errors keep their level. A normal call, hung up and
	// closed, logs nothing above info. Nil means slog.Default().
	Logger *slog.Logger

	// aloneEvery is how often the log says the session still waits for a
	// peer; 0 means aloneInterval. Tests shorten it.
	aloneEvery time.Duration
}

func (c *Config) validate() error {
	if c.Signaler == nil {
		return fmt.Errorf("%w: Signaler is nil", ErrConfig)
	}
	if c.DisconnectedGrace < 0 {
		return fmt.Errorf("%w: DisconnectedGrace %v is negative", ErrConfig, c.DisconnectedGrace)
	}
	if len(c.MoreVideo) > 0 && c.Video == nil {
		return fmt.Errorf("%w: MoreVideo needs Video", ErrConfig)
	}
	names := map[string]bool{}
	for _, v := range c.videoSenders() {
		if v == nil {
			return fmt.Errorf("%w: a MoreVideo entry is nil", ErrConfig)
		}
		if v.Samples == nil && (v.Source == nil || v.Encoder == nil) {
			return fmt.Errorf("%w: video %q needs Source and Encoder, or Samples", ErrConfig, v.name())
		}
		if v.MinBitrate < 0 || v.MaxBitrate < 0 || (v.MaxBitrate > 0 && v.MinBitrate > v.MaxBitrate) {
			return fmt.Errorf("%w: video %q bitrate range %d..%d", ErrConfig, v.name(), v.MinBitrate, v.MaxBitrate)
		}
		if v.StartBitrate < 0 {
			return fmt.Errorf("%w: video %q StartBitrate %d is negative", ErrConfig, v.name(), v.StartBitrate)
		}
		if names[v.name()] {
			return fmt.Errorf("%w: two video tracks named %q", ErrConfig, v.name())
		}
		names[v.name()] = true
	}
	seen := map[Channel]bool{}
	if c.DataChannels {
		seen[Reliable], seen[Unreliable] = true, true
	}
	for _, ch := range c.Channels {
		if ch.Label == "" || seen[ch.Label] {
			return fmt.Errorf("%w: data channel label %q is empty or used twice", ErrConfig, ch.Label)
		}
		seen[ch.Label] = true
	}
	if a := c.Audio; a != nil && a.Samples == nil && (a.Source == nil || a.Encoder == nil) {
		return fmt.Errorf("%w: Audio needs Source and Encoder, or Samples", ErrConfig)
	}
	if r := c.ReceiveVideo; r != nil {
		if err := checkSink(r.Sink, r.NewDecoder != nil, "ReceiveVideo", func(s playback.Sink) bool { _, ok := s.(playback.VideoSink); return ok }); err != nil {
			return err
		}
	}
	if r := c.ReceiveAudio; r != nil {
		if err := checkSink(r.Sink, r.NewDecoder != nil, "ReceiveAudio", func(s playback.Sink) bool { _, ok := s.(playback.AudioSink); return ok }); err != nil {
			return err
		}
	}
	return nil
}

// videoSenders lists Video, then MoreVideo.
func (c *Config) videoSenders() []*VideoSender {
	if c.Video == nil {
		return nil
	}
	return append([]*VideoSender{c.Video}, c.MoreVideo...)
}

func checkSink(s playback.Sink, decoding bool, name string, raw func(playback.Sink) bool) error {
	if s == nil {
		return fmt.Errorf("%w: %s.Sink is nil", ErrConfig, name)
	}
	if decoding && !raw(s) {
		return fmt.Errorf("%w: %s has a decoder but its Sink takes no decoded media", ErrConfig, name)
	}
	if _, ok := s.(playback.SampleSink); !decoding && !ok {
		return fmt.Errorf("%w: %s has no decoder and its Sink is not a SampleSink", ErrConfig, name)
	}
	return nil
}

func (v *VideoSender) bitrates() (lo, hi, start int) {
	lo, hi, start = v.MinBitrate, v.MaxBitrate, v.StartBitrate
	if lo == 0 {
		lo = 100_000
	}
	if hi == 0 {
		hi = 2_500_000
	}
	if start == 0 {
		start = 500_000
	}
	return lo, hi, min(max(start, lo), hi)
}

func (c *Config) grace() time.Duration {
	if c.DisconnectedGrace == 0 {
		return 4 * time.Second
	}
	return c.DisconnectedGrace
}

func (c *Config) aloneReminder() time.Duration {
	if c.aloneEvery == 0 {
		return aloneInterval
	}
	return c.aloneEvery
}
