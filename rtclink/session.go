package rtclink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avlink/avlink/signal"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// Session is one peer connection to one remote peer, negotiated over a
// Signaler. When the remote peer goes away and another comes, the session
// builds a fresh peer connection for it and keeps its sources running.
type Session struct {
	cfg Config
	log *slog.Logger
	api *webrtc.API

	ctx    context.Context
	cancel context.CancelFunc
	events *queue[func()]
	out    *queue[signal.Message]
	wg     sync.WaitGroup
	closed atomic.Bool

	// Owned by the loop goroutine.
	link          *link
	selfID        string
	sawJoined     bool
	restartWanted bool     // an ICE restart waits for the peer to rejoin
	waiting       []string // peers that joined while a call was up, oldest first
	lastJoin      map[string]time.Time
	early         map[string][]webrtc.ICECandidateInit
	newEstimator  cc.BandwidthEstimator

	// video and audio are written on the loop (and in New); other
	// goroutines read them under mediaMu.
	mediaMu sync.Mutex
	video   *videoSend
	audio   *audioSend

	dcMu sync.Mutex
	dcs  [2]*webrtc.DataChannel

	stats counters
}

// New starts a session. It returns at once; the connection is made when
// the remote peer shows up on the Signaler.
func New(cfg Config) (*Session, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Session{
		cfg:      cfg,
		log:      cfg.Logger,
		events:   newQueue[func()](),
		out:      newQueue[signal.Message](),
		lastJoin: map[string]time.Time{},
		early:    map[string][]webrtc.ICECandidateInit{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("role", cfg.Role.String())
	api, err := s.buildAPI()
	if err != nil {
		return nil, fmt.Errorf("rtclink: %w", err)
	}
	s.api = api
	if err := s.makeSenders(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	s.wg.Add(3)
	go s.loop()
	go s.recvSignals()
	go s.sendSignals()
	s.startSenders()
	if cfg.Role == Offerer {
		// An old server never answers a join: offer to the room anyway.
		s.afterFunc(1500*time.Millisecond, func() {
			if !s.sawJoined && s.link == nil {
				s.log.Info("rtclink: no join acknowledgement from the server, offering to the room")
				s.connect("")
			}
		})
	}
	return s, nil
}

// post runs f on the session loop.
func (s *Session) post(f func()) { s.events.push(f) }

// afterFunc runs f on the session loop after d, unless the session closed.
func (s *Session) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		if !s.closed.Load() {
			s.post(f)
		}
	})
}

func (s *Session) loop() {
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

func (s *Session) recvSignals() {
	defer s.wg.Done()
	for {
		m, err := s.cfg.Signaler.Recv(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("rtclink: signaling ended", "err", err)
			}
			return
		}
		s.post(func() { s.handle(m) })
	}
}

func (s *Session) sendSignals() {
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
func (s *Session) send(m signal.Message) { s.out.push(m) }

// Close ends the session: it closes the peer connection, the data
// channels, and the sources, encoders, decoders and sinks of its Config,
// and waits for every goroutine it started. The Signaler is the caller's.
// Close is safe to call more than once.
func (s *Session) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	var errs []error
	s.mediaMu.Lock()
	video, audio := s.video, s.audio
	s.mediaMu.Unlock()
	// Sources first, so that blocked reads return.
	if video != nil {
		errs = append(errs, video.closeSource())
	}
	if audio != nil {
		errs = append(errs, audio.closeSource())
	}
	s.wg.Wait()
	// A track added while closing is seen only now.
	s.mediaMu.Lock()
	if s.video != video && s.video != nil {
		errs = append(errs, s.video.closeSource())
	}
	if s.audio != audio && s.audio != nil {
		errs = append(errs, s.audio.closeSource())
	}
	video, audio = s.video, s.audio
	s.mediaMu.Unlock()
	if video != nil {
		errs = append(errs, video.closeEncoder())
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

// Done is closed when the session's context ends, after Close.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// isEOF reports the ordinary end of a source.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
