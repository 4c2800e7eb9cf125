package livekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/avlink/avlink/rtclink"
	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// ErrConfig reports a Config that cannot work.
var ErrConfig = errors.New("livekit: invalid config")

// DefaultTokenTTL is how long a minted access token is valid when
// Config.TokenTTL is zero. The server hands a connected participant fresh
// tokens, so this bounds only the first join.
const DefaultTokenTTL = time.Hour

// Config configures a [Session]. URL, APIKey, APISecret, Room and
// Identity are required.
type Config struct {
	// URL is the LiveKit server, such as "wss://lk.example.com" or
	// "ws://127.0.0.1:7880".
	URL string
	// APIKey and APISecret sign the access token the session mints for
	// itself.
	APIKey, APISecret string
	// Room is the room to join, and Identity this participant's identity
	// in it (one robot, one identity: a second join with the same
	// identity replaces the first).
	Room, Identity string
	// TokenTTL is the minted token's validity. 0 means DefaultTokenTTL.
	TokenTTL time.Duration

	// Video, MoreVideo and Audio are what the robot publishes, as for
	// rtclink. Each video track is published under its Name. The video
	// encoder runs at StartBitrate (clamped to MinBitrate..MaxBitrate):
	// LiveKit's SFU adapts each viewer's stream on its side.
	Video     *rtclink.VideoSender
	MoreVideo []*rtclink.VideoSender
	Audio     *rtclink.AudioSender

	// ReceiveAudio plays the audio tracks other participants publish
	// (talk-back); nil ignores them. Its Sink is written from one
	// goroutine at a time.
	ReceiveAudio *rtclink.AudioReceiver

	// OnData receives the room's data packets, with their topic as the
	// channel label.
	OnData func(ch rtclink.Channel, data []byte)

	// Logger receives the session's messages. nil means slog.Default().
	Logger *slog.Logger
}

func (c *Config) validate() error {
	for name, v := range map[string]string{"URL": c.URL, "APIKey": c.APIKey, "APISecret": c.APISecret, "Room": c.Room, "Identity": c.Identity} {
		if v == "" {
			return fmt.Errorf("%w: %s is empty", ErrConfig, name)
		}
	}
	if c.TokenTTL < 0 {
		return fmt.Errorf("%w: negative TokenTTL", ErrConfig)
	}
	if len(c.MoreVideo) > 0 && c.Video == nil {
		return fmt.Errorf("%w: MoreVideo needs Video", ErrConfig)
	}
	if r := c.ReceiveAudio; r != nil {
		_, audio := r.Sink.(playback.AudioSink)
		_, samples := r.Sink.(playback.SampleSink)
		if (r.NewDecoder != nil && !audio) || (r.NewDecoder == nil && !samples) {
			return fmt.Errorf("%w: ReceiveAudio needs NewDecoder and an AudioSink, or a SampleSink", ErrConfig)
		}
	}
	return nil
}

// Token returns an access token that lets identity join room and publish,
// subscribe and send data, valid for ttl.
func Token(apiKey, apiSecret, room, identity string, ttl time.Duration) (string, error) {
	at := auth.NewAccessToken(apiKey, apiSecret)
	yes := true
	at.SetVideoGrant(&auth.VideoGrant{
		RoomJoin: true, Room: room,
		CanPublish: &yes, CanSubscribe: &yes, CanPublishData: &yes,
	}).SetIdentity(identity).SetValidFor(ttl)
	return at.ToJWT()
}

// Session is a robot's presence in a LiveKit room. It implements
// [rtclink.Session].
type Session struct {
	cfg  Config
	log  *slog.Logger
	room *lksdk.Room

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // media loops
	rwg    sync.WaitGroup // receive loops, which end when the room closes

	closeOnce sync.Once
	closeErr  error
	errMu     sync.Mutex
	err       error

	// changed is closed and replaced when the state changes, to wake
	// WaitConnected.
	stateMu sync.Mutex
	state   rtclink.State
	changed chan struct{}

	mediaMu sync.Mutex
	leaving bool // no more talk-back receivers: the room is closing
	videos  []*videoPub
	audio   *audioPub
	sinkMu  sync.Mutex // one writer at a time into ReceiveAudio.Sink

	audioIn struct{ packets, bytes, decoded atomic.Int64 }
	statsMu sync.Mutex
	prev    rtclink.Stats
}

var _ rtclink.Session = (*Session)(nil)

// New mints a token, joins the room and starts publishing. It returns
// when the room is joined, or with the server's reason when it refuses;
// afterwards LiveKit's SDK repairs the connection by itself, and the
// session ends (Done, Err) only when it gives up.
func New(cfg Config) (*Session, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ttl := cfg.TokenTTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	token, err := Token(cfg.APIKey, cfg.APISecret, cfg.Room, cfg.Identity, ttl)
	if err != nil {
		return nil, fmt.Errorf("livekit: token: %w", err)
	}
	s := &Session{cfg: cfg, log: cfg.Logger, changed: make(chan struct{}), state: rtclink.StateConnecting}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("room", cfg.Room, "identity", cfg.Identity)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.prev = rtclink.Stats{At: time.Now()}

	cb := lksdk.NewRoomCallback()
	cb.OnDisconnectedWithReason = s.onDisconnected
	cb.OnReconnecting = func() { s.setState(rtclink.StateDisconnected) }
	cb.OnReconnected = func() { s.setState(rtclink.StateConnected) }
	cb.OnDataPacket = s.onData
	cb.OnTrackSubscribed = s.onTrack
	room, err := lksdk.ConnectToRoomWithToken(cfg.URL, token, cb, lksdk.WithAutoSubscribe(cfg.ReceiveAudio != nil), lksdk.WithLogger(sdkLogger(s.log)))
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("livekit: join %s: %w", cfg.URL, err)
	}
	s.room = room
	s.log.Info("livekit: joined", "url", cfg.URL)
	s.setState(rtclink.StateConnected)
	var vs []*rtclink.VideoSender
	if cfg.Video != nil {
		vs = append([]*rtclink.VideoSender{cfg.Video}, cfg.MoreVideo...)
	}
	for _, v := range vs {
		if err := s.AddVideo(v); err != nil {
			s.Close()
			return nil, err
		}
	}
	if cfg.Audio != nil {
		if err := s.AddAudio(cfg.Audio); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Session) onDisconnected(reason lksdk.DisconnectionReason) {
	if s.ctx.Err() != nil {
		return
	}
	// The SDK gave up on the connection: the session ends and says why.
	s.setErr(fmt.Errorf("%w: livekit disconnected: %s", rtclink.ErrSignalingEnded, reason))
	s.log.Error("livekit: disconnected, closing the session", "reason", reason)
	go s.Close()
}

func (s *Session) onData(p lksdk.DataPacket, params lksdk.DataReceiveParams) {
	u, ok := p.(*lksdk.UserDataPacket)
	if !ok || s.cfg.OnData == nil {
		return
	}
	s.cfg.OnData(rtclink.Channel(u.Topic), u.Payload)
}

// lossy reports the channels sent without retransmission, as their
// rtclink data channels are: teleop commands, where a late one is worse
// than none, and Unreliable telemetry.
func lossy(ch rtclink.Channel) bool { return ch == "teleop" || ch == rtclink.Unreliable }

// SendData publishes data to the room as a data packet whose topic is
// ch's label: lossy for "teleop" and rtclink.Unreliable, reliable for
// every other label.
func (s *Session) SendData(ch rtclink.Channel, data []byte) error {
	if s.ctx.Err() != nil {
		return s.Err()
	}
	return s.room.LocalParticipant.PublishDataPacket(lksdk.UserData(data),
		lksdk.WithDataPublishTopic(string(ch)), lksdk.WithDataPublishReliable(!lossy(ch)))
}

// WaitConnected blocks until the room is joined and the connection up,
// ctx ends, or the session ends (then it returns Err()).
func (s *Session) WaitConnected(ctx context.Context) error {
	for {
		s.stateMu.Lock()
		ok, changed := s.state == rtclink.StateConnected, s.changed
		s.stateMu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-s.ctx.Done():
			return s.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitChannel is WaitConnected: every label can be sent on once the room
// is joined.
func (s *Session) WaitChannel(ctx context.Context, _ rtclink.Channel) error {
	return s.WaitConnected(ctx)
}

func (s *Session) setState(st rtclink.State) {
	s.stateMu.Lock()
	s.state = st
	close(s.changed)
	s.changed = make(chan struct{})
	s.stateMu.Unlock()
}

// Stats returns the session's figures: its state, the room, and what it
// sent and received. Rates cover the time since the previous call.
func (s *Session) Stats() rtclink.Stats {
	st := rtclink.Stats{At: time.Now()}
	s.stateMu.Lock()
	st.State = s.state
	s.stateMu.Unlock()
	st.Room = rtclink.RoomStats{Name: s.cfg.Room, ID: s.cfg.Identity, Announced: true}
	if s.room != nil {
		st.Room.Peers = len(s.room.GetRemoteParticipants())
	}
	s.mediaMu.Lock()
	videos, audio := s.videos, s.audio
	s.mediaMu.Unlock()
	for _, v := range videos {
		t := rtclink.VideoTrackStats{Name: v.name, FramesSent: v.sent.Load(), Bytes: uint64(v.bytes.Load()), TargetBitrate: v.bitrate}
		st.VideoOut.FramesEncoded += v.encoded.Load()
		st.VideoOut.FramesDropped += v.dropped.Load()
		st.VideoOut.FramesSent += t.FramesSent
		st.VideoOut.Bytes += t.Bytes
		st.VideoOut.TargetBitrate += t.TargetBitrate
		if len(videos) > 1 {
			st.VideoOut.Tracks = append(st.VideoOut.Tracks, t)
		}
	}
	if audio != nil {
		st.AudioOut.FramesSent = audio.sent.Load()
		st.AudioOut.Bytes = uint64(audio.bytes.Load())
	}
	st.AudioIn.PacketsReceived = s.audioIn.packets.Load()
	st.AudioIn.Bytes = uint64(s.audioIn.bytes.Load())
	st.AudioIn.FramesDecoded = s.audioIn.decoded.Load()

	s.statsMu.Lock()
	if dt := st.At.Sub(s.prev.At).Seconds(); dt > 0 {
		st.VideoOut.FPS = float64(st.VideoOut.FramesSent-s.prev.VideoOut.FramesSent) / dt
	}
	s.prev = st
	s.statsMu.Unlock()
	return st
}

// Done is closed when the session ends: after Close, or when LiveKit's
// SDK gives up on the connection.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Err is nil while the session runs, rtclink.ErrClosed after Close, and
// an error wrapping rtclink.ErrSignalingEnded when the connection to the
// server was lost for good.
func (s *Session) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *Session) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// Close leaves the room and closes the sources, encoders and the
// ReceiveAudio sink of the Config, waiting for every goroutine it
// started. It is safe to call more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Session) shutdown() error {
	s.setErr(rtclink.ErrClosed)
	s.cancel()
	s.setState(rtclink.StateClosed)
	var errs []error
	s.mediaMu.Lock()
	videos, audio := s.videos, s.audio
	s.mediaMu.Unlock()
	// Sources first, so that blocked reads return.
	for _, v := range videos {
		errs = append(errs, v.closeSource())
	}
	if audio != nil {
		errs = append(errs, audio.closeSource())
	}
	s.wg.Wait()
	s.mediaMu.Lock()
	s.leaving = true
	s.mediaMu.Unlock()
	if s.room != nil {
		s.room.Disconnect()
	}
	s.rwg.Wait()
	for _, v := range videos {
		errs = append(errs, v.closeEncoder())
	}
	if audio != nil {
		errs = append(errs, audio.closeEncoder())
	}
	if r := s.cfg.ReceiveAudio; r != nil {
		errs = append(errs, r.Sink.Close())
	}
	return errors.Join(errs...)
}

// capability describes c for the SDK's sample tracks.
func capability(c capture.Codec) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: c.MimeType, ClockRate: c.ClockRate, Channels: c.Channels, SDPFmtpLine: c.Fmtp}
}
