package rtclink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/signal"
	"github.com/pion/webrtc/v4"
)

// Session is a call between this program and a remote peer: what a robot
// program does with one, whatever carries the media. [PeerSession], made
// by [New], is the default: one WebRTC peer connection negotiated over a
// [signal.Signaler].
type Session interface {
	// WaitConnected blocks until the media path to a peer is up, ctx
	// ends, or the session ends (then it returns Err()).
	WaitConnected(ctx context.Context) error
	// WaitChannel blocks until the data channel ch is open, ctx ends, or
	// the session ends.
	WaitChannel(ctx context.Context, ch Channel) error
	// SendData sends one message on the open data channel ch.
	SendData(ch Channel, data []byte) error
	// AddVideo and AddAudio start sending a track on a running session.
	AddVideo(v *VideoSender) error
	AddAudio(a *AudioSender) error
	// Stats returns the session's current figures.
	Stats() Stats
	// Done is closed when the session ends: after Close, or by itself
	// when its signaling ends for good.
	Done() <-chan struct{}
	// Err is nil while the session runs, ErrClosed after Close, and why
	// it ended when it ended by itself.
	Err() error
	// Close ends the session and releases everything it was given.
	Close() error
}

var _ Session = (*PeerSession)(nil)

// PeerSession is one peer connection to one remote peer, negotiated over a
// Signaler. When the remote peer goes away and another comes, it builds a
// fresh peer connection for the newcomer and keeps its sources running.
type PeerSession struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	events *queue[func()]
	out    *queue[signal.Message]
	wg     sync.WaitGroup
	closed atomic.Bool

	closeOnce sync.Once
	closeErr  error
	errMu     sync.Mutex
	err       error

	// changed is closed and replaced whenever the connection state or the
	// set of open data channels changes, to wake the Wait calls.
	waitMu   sync.Mutex
	changed  chan struct{}
	state    State
	failures int // peer connections that reached "failed"
	dcs      map[Channel]*webrtc.DataChannel

	// Owned by the loop goroutine.
	link          *link
	selfID        string
	sawJoined     bool
	restartWanted bool     // an ICE restart waits for the peer to rejoin
	waiting       []string // peers that joined while a call was up, oldest first
	lastJoin      map[string]time.Time
	early         map[string][]webrtc.ICECandidateInit
	room          roomView

	// video and audio are written on the loop (and in New); other
	// goroutines read them under mediaMu.
	mediaMu sync.Mutex
	videos  []*videoSend // Config.Video first
	audio   *audioSend

	stats counters
}

// New starts a session. It returns at once; the connection is made when
// the remote peer shows up on the Signaler.
func New(cfg Config) (*PeerSession, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &PeerSession{
		cfg:      cfg,
		log:      cfg.Logger,
		events:   newQueue[func()](),
		out:      newQueue[signal.Message](),
		lastJoin: map[string]time.Time{},
		early:    map[string][]webrtc.ICECandidateInit{},
		changed:  make(chan struct{}),
		dcs:      map[Channel]*webrtc.DataChannel{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("role", cfg.Role.String())
	if err := s.makeSenders(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.stats.prev = Stats{At: time.Now()}

	s.wg.Add(3)
	go s.loop()
	go s.recvSignals()
	go s.sendSignals()
	s.startSenders()
	s.post(s.start)
	return s, nil
}

// start runs first on the loop: it offers at once through a server that
// never acknowledges joins, and otherwise reminds the log, every few
// seconds, that nobody else is in the room.
func (s *PeerSession) start() {
	acks := true
	if a, ok := s.cfg.Signaler.(signal.JoinAcknowledger); ok {
		acks = a.AcknowledgesJoins()
	}
	if s.cfg.Role == Offerer && !acks {
		// As the original deployment's robot did: its server forwards
		// messages to whoever is connected, so offer to the room now.
		s.log.Info("rtclink: the signaling server does not announce peers, offering to the room")
		s.connect("")
	} else if s.cfg.Role == Offerer {
		// A Signaler that cannot say whether its server answers joins:
		// wait a moment for one, then offer to the room anyway.
		s.afterFunc(legacyJoinWait, func() {
			if !s.sawJoined && s.link == nil {
				s.log.Info("rtclink: no join acknowledgement from the server, offering to the room")
				s.connect("")
			}
		})
	}
	s.afterFunc(s.cfg.aloneReminder(), s.remindAlone)
}

// legacyJoinWait is how long an offerer waits for "joined" from a
// Signaler that does not say whether its server sends one.
const legacyJoinWait = 1500 * time.Millisecond

// aloneInterval is how often the log says the session is still waiting
// for a peer.
const aloneInterval = 5 * time.Second

func (s *PeerSession) remindAlone() {
	if s.link == nil || s.link.state != StateConnected {
		switch {
		case s.sawJoined && s.room.peers() == 0:
			s.log.Info("rtclink: still alone in room", "room", s.room.name, "id", s.selfID)
		case s.link == nil:
			s.log.Info("rtclink: still waiting for a peer", "room", s.room.name)
		}
	}
	s.afterFunc(s.cfg.aloneReminder(), s.remindAlone)
}

// post runs f on the session loop.
func (s *PeerSession) post(f func()) { s.events.push(f) }

// afterFunc runs f on the session loop after d, unless the session closed.
func (s *PeerSession) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		if !s.closed.Load() {
			s.post(f)
		}
	})
}

func (s *PeerSession) loop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.events.notify:
			for _, f := range s.events.drain() {
				f()
			}
		case <-s.ctx.Done():
			if s.link != nil {
				s.closeLink(s.link, "session closed")
			}
			return
		}
	}
}

func (s *PeerSession) recvSignals() {
	defer s.wg.Done()
	for {
		m, err := s.cfg.Signaler.Recv(s.ctx)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			// The Signaler stopped for good: without it no call can be
			// negotiated or repaired, so the session ends and says why.
			s.setErr(fmt.Errorf("%w: %w", ErrSignalingEnded, err))
			s.log.Error("rtclink: signaling ended, closing the session", "err", err)
			go s.Close()
			return
		}
		s.post(func() { s.handle(m) })
	}
}

func (s *PeerSession) sendSignals() {
	defer s.wg.Done()
	for {
		select {
		case <-s.out.notify:
		case <-s.ctx.Done():
			return
		}
		for _, m := range s.out.drain() {
			if err := s.cfg.Signaler.Send(s.ctx, m); err != nil {
				if s.ctx.Err() != nil {
					return
				}
				s.log.Warn("rtclink: signaling send failed", "type", m.Type, "err", err)
			}
		}
	}
}

// send queues a signaling message; it never blocks the loop.
func (s *PeerSession) send(m signal.Message) { s.out.push(m) }

// Close ends the session: it closes the peer connection, the data
// channels, and the sources, encoders, decoders and sinks of its Config,
// and waits for every goroutine it started. The Signaler is the caller's.
// Close is safe to call more than once and from several goroutines; every
// call returns when the session is closed.
func (s *PeerSession) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *PeerSession) shutdown() error {
	s.setErr(ErrClosed)
	s.closed.Store(true)
	s.cancel()
	s.notify()
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
	// A track added while closing is seen only now.
	s.mediaMu.Lock()
	for _, v := range s.videos[len(videos):] {
		errs = append(errs, v.closeSource())
	}
	if s.audio != audio && s.audio != nil {
		errs = append(errs, s.audio.closeSource())
	}
	videos, audio = s.videos, s.audio
	s.mediaMu.Unlock()
	for _, v := range videos {
		errs = append(errs, v.closeEncoder())
	}
	if audio != nil {
		errs = append(errs, audio.closeEncoder())
	}
	if r := s.cfg.ReceiveVideo; r != nil {
		errs = append(errs, r.Sink.Close())
	}
	if r := s.cfg.ReceiveAudio; r != nil {
		errs = append(errs, r.Sink.Close())
	}
	return errors.Join(errs...)
}

// Done is closed when the session ends: when Close is called, or when its
// Signaler stops for good (then Err says why).
func (s *PeerSession) Done() <-chan struct{} { return s.ctx.Done() }

// Err returns nil while the session runs. After it ended it returns
// ErrClosed when Close ended it, or an error wrapping ErrSignalingEnded
// and the Signaler's own error when it ended by itself.
func (s *PeerSession) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// setErr records why the session ends; the first reason stays.
func (s *PeerSession) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// WaitConnected blocks until the session's peer connection is connected,
// ctx ends (its error is returned), or the session ends (Err is
// returned). It returns at once when already connected. When the peer
// connection fails while it waits, it returns an error wrapping ErrNoPath
// that says what usually fixes it; the session keeps trying, and a later
// call waits again.
func (s *PeerSession) WaitConnected(ctx context.Context) error {
	s.waitMu.Lock()
	failures := s.failures
	s.waitMu.Unlock()
	err := s.waitFor(ctx, func() bool { return s.state == StateConnected || s.failures > failures })
	if err != nil {
		return err
	}
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if s.state != StateConnected {
		return s.noPath()
	}
	return nil
}

// noPath explains a failed connection from the ICE servers configured.
func (s *PeerSession) noPath() error {
	turn := 0
	for _, is := range s.cfg.ICEServers {
		for _, u := range is.URLs {
			if strings.HasPrefix(u, "turn") {
				turn++
			}
		}
	}
	if turn == 0 {
		return fmt.Errorf("%w: ICE found no working pair of candidates and no TURN server is configured; "+
			"behind a symmetric NAT or a firewall that blocks UDP, set a TURN server in Config.ICEServers", ErrNoPath)
	}
	return fmt.Errorf("%w: ICE found no working pair of candidates, not even through the %d TURN server(s) configured; "+
		"check that they are reachable (UDP 3478 and the relay ports, or TCP/TLS) and that the credentials are right", ErrNoPath, turn)
}

// WaitChannel blocks until the data channel ch is open, ctx ends, or the
// session ends. With Config.DataChannels the offerer opens Reliable and
// Unreliable; other labels open when the peer (or Config.Channels) opens
// them.
func (s *PeerSession) WaitChannel(ctx context.Context, ch Channel) error {
	return s.waitFor(ctx, func() bool { return s.dcs[ch] != nil })
}

// waitFor waits until ready, evaluated under waitMu, holds.
func (s *PeerSession) waitFor(ctx context.Context, ready func() bool) error {
	for {
		s.waitMu.Lock()
		ok, changed := ready(), s.changed
		s.waitMu.Unlock()
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

// update changes the state or channels under waitMu and wakes waiters.
func (s *PeerSession) update(f func()) {
	s.waitMu.Lock()
	f()
	close(s.changed)
	s.changed = make(chan struct{})
	s.waitMu.Unlock()
}

func (s *PeerSession) notify() { s.update(func() {}) }

// isEOF reports the ordinary end of a source.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
