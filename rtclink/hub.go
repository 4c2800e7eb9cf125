package rtclink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/avlink/avlink/signal"
)

// DefaultMaxViewers is how many viewers a Hub serves at once when
// HubConfig.MaxViewers is zero.
const DefaultMaxViewers = 4

// HubConfig configures a [Hub].
type HubConfig struct {
	// Signaler is the robot's one connection to the signaling server; the
	// Hub reads it and closes it. Its server must announce peers
	// (signal.JoinAcknowledger true, as the project's server does): the
	// Hub tells viewers apart by their ids.
	Signaler signal.Signaler
	// MaxViewers is how many viewers are served at once. A viewer beyond
	// it is sent an error message with code signal.CodeViewersFull and
	// is served when a place frees up (it stays in the room). Zero means
	// DefaultMaxViewers.
	MaxViewers int
	// NewSession returns the configuration of the session that serves
	// viewer: its media and receivers, ICE servers, data channels. The
	// Hub sets its Signaler and makes it the offerer. Sessions close what
	// their Config gives them when they end, so give each its own
	// readers of a shared source (capture.ShareVideo, or
	// capture/broadcast to encode once for all viewers). An error refuses
	// the viewer, and is logged.
	NewSession func(viewer string) (Config, error)
	// OnViewer, when set, is called with each viewer's session once it
	// is made, and with a nil session when the viewer's call has ended
	// and its session is closed; one call at a time. It must not block.
	OnViewer func(viewer string, s *PeerSession)
	// Logger receives the Hub's log lines, and is the sessions' logger
	// when their Config has none. Nil means slog.Default().
	Logger *slog.Logger
}

// Hub serves several viewers at once from one robot: one [PeerSession]
// per viewer, all negotiated over the robot's one Signaler. Each viewer's
// call has its own peer connection, congestion control and data channels,
// so a viewer on a bad link never stalls the others.
type Hub struct {
	cfg HubConfig
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// arriveMu makes arrivals one at a time, so two cannot both take
	// the last place or both serve one viewer; cbMu, OnViewer's calls.
	arriveMu, cbMu sync.Mutex

	mu      sync.Mutex
	self    string
	room    string
	viewers map[string]*hubViewer
	waiting []string // refused for want of a place, in arrival order

	errMu sync.Mutex
	err   error

	closeOnce sync.Once
	closeErr  error
}

type hubViewer struct {
	id   string
	sig  *hubSignaler
	sess *PeerSession
	left time.Time // when the viewer left signaling; zero while it is in the room
}

// hubSweep is how often the Hub ends the sessions of viewers gone.
const hubSweep = time.Second

// NewHub starts a Hub on cfg.Signaler.
func NewHub(cfg HubConfig) (*Hub, error) {
	if cfg.Signaler == nil || cfg.NewSession == nil {
		return nil, fmt.Errorf("%w: a Hub needs a Signaler and NewSession", ErrConfig)
	}
	if a, ok := cfg.Signaler.(signal.JoinAcknowledger); ok && !a.AcknowledgesJoins() {
		return nil, fmt.Errorf("%w: the signaling server does not announce peers, so a Hub cannot tell viewers apart; use one PeerSession", ErrConfig)
	}
	if cfg.MaxViewers < 0 {
		return nil, fmt.Errorf("%w: MaxViewers %d", ErrConfig, cfg.MaxViewers)
	}
	if cfg.MaxViewers == 0 {
		cfg.MaxViewers = DefaultMaxViewers
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, viewers: map[string]*hubViewer{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(2)
	go h.recv()
	go h.sweep()
	return h, nil
}

// Viewers returns the ids of the viewers being served.
func (h *Hub) Viewers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.viewers))
	for id := range h.viewers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Session returns the session serving viewer, or nil.
func (h *Hub) Session(viewer string) *PeerSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v := h.viewers[viewer]; v != nil {
		return v.sess
	}
	return nil
}

// Done is closed when the Hub ends: after Close, or when its Signaler
// stops for good (then Err says why).
func (h *Hub) Done() <-chan struct{} { return h.ctx.Done() }

// Err is nil while the Hub runs, ErrClosed after Close, and an error
// wrapping ErrSignalingEnded when its Signaler stopped by itself.
func (h *Hub) Err() error {
	h.errMu.Lock()
	defer h.errMu.Unlock()
	return h.err
}

func (h *Hub) setErr(err error) {
	h.errMu.Lock()
	if h.err == nil {
		h.err = err
	}
	h.errMu.Unlock()
}

// Close ends every viewer's session and closes the Signaler. It is safe
// to call more than once.
func (h *Hub) Close() error {
	h.closeOnce.Do(func() {
		h.setErr(ErrClosed)
		h.cancel()
		sigErr := h.cfg.Signaler.Close()
		h.wg.Wait()
		h.mu.Lock()
		vs := h.viewers
		h.viewers = map[string]*hubViewer{}
		h.mu.Unlock()
		var errs []error
		for _, v := range vs {
			errs = append(errs, h.end(v))
		}
		if sigErr != nil && !errors.Is(sigErr, signal.ErrClosed) {
			errs = append(errs, sigErr)
		}
		h.closeErr = errors.Join(errs...)
	})
	return h.closeErr
}

func (h *Hub) recv() {
	defer h.wg.Done()
	for {
		m, err := h.cfg.Signaler.Recv(h.ctx)
		if err != nil {
			if h.ctx.Err() == nil {
				h.log.Error("rtclink hub: signaling ended", "err", err)
				h.setErr(fmt.Errorf("%w: %w", ErrSignalingEnded, err))
				h.cancel()
			}
			return
		}
		h.handle(m)
	}
}

// handle routes one message from the server.
func (h *Hub) handle(m signal.Message) {
	switch m.Type {
	case signal.TypeJoined:
		h.mu.Lock()
		h.self, h.room = m.ID, m.Room
		h.mu.Unlock()
		h.log.Info("rtclink hub: joined room", "room", m.Room, "id", m.ID, "viewers_waiting", len(m.Peers))
		for _, p := range m.Peers {
			h.arrived(p)
		}
	case signal.TypePeerJoined:
		h.arrived(m.Peer)
	case signal.TypePeerLeft:
		h.gone(m.Peer, m)
	case signal.TypeReconnected:
		h.mu.Lock()
		for _, v := range h.viewers {
			v.sig.deliver(m)
		}
		h.mu.Unlock()
	case signal.TypeError:
		h.log.Warn("rtclink hub: signaling server refused a message", "code", m.Code, "reason", m.Reason)
	default:
		if m.Sender == "" {
			return
		}
		h.mu.Lock()
		v := h.viewers[m.Sender]
		h.mu.Unlock()
		if v == nil && m.Type == signal.TypeOffer {
			// A viewer that calls us before we saw it join.
			h.arrived(m.Sender)
			h.mu.Lock()
			v = h.viewers[m.Sender]
			h.mu.Unlock()
		}
		if v != nil {
			v.sig.deliver(m)
		}
	}
}

// arrived serves a viewer that joined, or refuses it when the Hub is
// full; a viewer already served hears of its own return, as a session
// does.
func (h *Hub) arrived(id string) {
	if id == "" || h.ctx.Err() != nil {
		return
	}
	h.arriveMu.Lock()
	defer h.arriveMu.Unlock()
	h.mu.Lock()
	if v := h.viewers[id]; v != nil {
		v.left = time.Time{}
		v.sig.deliver(signal.Message{Type: signal.TypePeerJoined, Peer: id})
		h.mu.Unlock()
		return
	}
	if len(h.viewers) >= h.cfg.MaxViewers {
		if !slices.Contains(h.waiting, id) {
			h.waiting = append(h.waiting, id)
		}
		n := len(h.viewers)
		h.mu.Unlock()
		h.log.Info("rtclink hub: viewer refused, as many as allowed are watching", "viewer", id, "viewers", n)
		h.sendTo(id, signal.Message{Type: signal.TypeError, Code: signal.CodeViewersFull,
			Reason: fmt.Sprintf("the robot serves %d viewers at most; you will be called when one leaves", h.cfg.MaxViewers)})
		return
	}
	h.waiting = slices.DeleteFunc(h.waiting, func(w string) bool { return w == id })
	self, room := h.self, h.room
	h.mu.Unlock()

	cfg, err := h.cfg.NewSession(id)
	if err != nil {
		h.log.Error("rtclink hub: no session for viewer", "viewer", id, "err", err)
		return
	}
	sig := newHubSignaler(h, id)
	cfg.Signaler, cfg.Role = sig, Offerer
	if cfg.Logger == nil {
		cfg.Logger = h.log
	}
	cfg.Logger = cfg.Logger.With("viewer", id)
	sess, err := New(cfg)
	if err != nil {
		h.log.Error("rtclink hub: cannot start the viewer's session", "viewer", id, "err", err)
		return
	}
	// The session hears the room as it is for it: itself and its viewer.
	sig.deliver(signal.Message{Type: signal.TypeJoined, ID: self, Room: room, Peers: []string{id}})
	h.mu.Lock()
	h.viewers[id] = &hubViewer{id: id, sig: sig, sess: sess}
	n := len(h.viewers)
	h.mu.Unlock()
	h.log.Info("rtclink hub: serving viewer", "viewer", id, "viewers", n)
	h.onViewer(id, sess)
}

func (h *Hub) onViewer(id string, s *PeerSession) {
	if h.cfg.OnViewer == nil {
		return
	}
	h.cbMu.Lock()
	defer h.cbMu.Unlock()
	h.cfg.OnViewer(id, s)
}

// gone tells a viewer's session that it left signaling; the sweep ends
// the session once its call is down.
func (h *Hub) gone(id string, m signal.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waiting = slices.DeleteFunc(h.waiting, func(w string) bool { return w == id })
	if v := h.viewers[id]; v != nil {
		v.left = time.Now()
		v.sig.deliver(m)
	}
}

// sweep ends the sessions of viewers that left and whose calls are down,
// and serves a waiting viewer in each freed place.
func (h *Hub) sweep() {
	defer h.wg.Done()
	t := time.NewTicker(hubSweep)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		var done []*hubViewer
		h.mu.Lock()
		for id, v := range h.viewers {
			if v.left.IsZero() {
				continue
			}
			// A connected call lasts while its media flows: the viewer
			// may only have lost its signaling, and come back.
			if v.sess.Stats().State != StateConnected {
				done = append(done, v)
				delete(h.viewers, id)
			}
		}
		free := h.cfg.MaxViewers - len(h.viewers)
		var next []string
		for len(next) < free && len(h.waiting) > 0 {
			next, h.waiting = append(next, h.waiting[0]), h.waiting[1:]
		}
		h.mu.Unlock()
		for _, v := range done {
			if err := h.end(v); err != nil {
				h.log.Warn("rtclink hub: closing a viewer's session", "viewer", v.id, "err", err)
			}
		}
		for _, id := range next {
			h.arrived(id)
		}
	}
}

// end closes a viewer's session.
func (h *Hub) end(v *hubViewer) error {
	err := v.sess.Close()
	_ = v.sig.Close()
	h.log.Info("rtclink hub: viewer's call ended", "viewer", v.id)
	h.onViewer(v.id, nil)
	return err
}

// sendTo sends m to one viewer through the server.
func (h *Hub) sendTo(id string, m signal.Message) {
	m.To = id
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	if err := h.cfg.Signaler.Send(ctx, m); err != nil && h.ctx.Err() == nil {
		h.log.Warn("rtclink hub: cannot send to viewer", "viewer", id, "type", m.Type, "err", err)
	}
}
