package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/transport/v5"

	"github.com/avlink/avlink/signal"
)

// DialOptions configures a [Client]. The zero value (or a nil pointer)
// dials through the host's network, gives each connection attempt 10 s,
// and reconnects forever with backoff from 250 ms to 10 s. No field takes
// a negative number: [Dial] refuses one with an error wrapping
// [ErrConfig].
type DialOptions struct {
	// Token is sent as "Authorization: Bearer <token>" when set. Empty
	// sends none.
	Token string
	// Header holds extra request headers (an Origin, a cookie). Nil sends
	// none.
	Header http.Header
	// HTTPClient is used for the upgrade request. Nil means a client of
	// the Client's own that dials through Net.
	HTTPClient *http.Client
	// Net is the network to dial through, when HTTPClient is nil. Nil
	// means the host's network.
	Net transport.Net
	// Logger receives connection losses, reconnects and the reason the
	// Client stops, if it does. Nil means slog.Default().
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between reconnect
	// attempts. 0 means 250 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// HandshakeTimeout bounds each connection attempt, from the TCP
	// connect to the sent join: a server that accepts the connection but
	// never answers the upgrade fails the attempt after this long. 0
	// means 10 s. It applies whether or not the context passed to Dial
	// has a deadline.
	HandshakeTimeout time.Duration
	// ReconnectTimeout is how long the Client tries to reconnect after
	// its connection drops before it gives up, and Recv returns an error
	// wrapping [signal.ErrUnreachable]. 0 means it tries until Close.
	ReconnectTimeout time.Duration
	// ReadLimit is the largest message accepted. 0 means 1 MiB.
	ReadLimit int64
	// FallbackURLs lists more servers that share their rooms with the
	// one of the URL given to Dial, such as wsserver servers on one NATS
	// system (wsserver.Config.NATS). Dial tries them in order when the
	// first does not answer, and after a drop the Client reconnects to
	// the next URL in turn, wrapping around, so that it resumes its id on
	// another server while its own is down. Each must be a ws:// or
	// wss:// URL, as for Dial. Nil means the one URL only.
	FallbackURLs []string
}

// withDefaults checks o and fills in its zero fields.
func (o DialOptions) withDefaults() (DialOptions, error) {
	for _, f := range []struct {
		name string
		neg  bool
	}{
		{"MinBackoff", o.MinBackoff < 0},
		{"MaxBackoff", o.MaxBackoff < 0},
		{"HandshakeTimeout", o.HandshakeTimeout < 0},
		{"ReconnectTimeout", o.ReconnectTimeout < 0},
		{"ReadLimit", o.ReadLimit < 0},
	} {
		if f.neg {
			return o, fmt.Errorf("%w: DialOptions.%s is negative", ErrConfig, f.name)
		}
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		return o, fmt.Errorf("%w: DialOptions.MaxBackoff %v is below MinBackoff %v", ErrConfig, o.MaxBackoff, o.MinBackoff)
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Client is a [signal.Signaler] over a WebSocket. It joins its room on
// connect, and when the connection drops it reconnects with backoff,
// rejoins (asking to keep its id), and delivers a
// [signal.TypeReconnected] message from Recv.
//
// A Client runs until Close, or until it stops for good by itself: its
// reconnect is refused for the token or origin, the server refuses its
// join, or the server stays unreachable for DialOptions.ReconnectTimeout.
// Recv then returns, after any messages still queued, an error that says
// why; [Client.Done] and [Client.Err] tell the same without a Recv.
type Client struct {
	urls  []string // the URL given to Dial, then DialOptions.FallbackURLs
	shown []string // urls with any token hidden, for errors and logs
	cur   int      // index in urls of the latest connection; the run goroutine's after Dial
	room  string
	opts  DialOptions
	log   *slog.Logger
	hc    *http.Client
	ownHC bool // hc is the Client's own, to release on stop

	ctx    context.Context
	cancel context.CancelFunc
	in     chan signal.Message
	done   chan struct{}

	mu    sync.Mutex
	conn  *websocket.Conn
	ready chan struct{} // closed while conn is usable
	id    string
	err   error // why the Client stopped; nil while it runs

	acks    atomic.Bool // the latest connection's server acknowledges joins
	closing atomic.Bool
}

// Dial connects to the signaling server at rawURL, joins room, and
// returns a Client that stays connected until Close.
//
// rawURL must be a ws:// or wss:// URL, such as "ws://localhost:3000" or
// "wss://signal.example.com/ws"; anything else (an http:// URL, a bare
// host:port) is refused with an error wrapping [ErrConfig] that says what
// to type instead. Errors, and log lines, name rawURL as it was given,
// but for the value of a "token" query parameter, which they hide.
//
// The first connection must succeed within ctx and within
// DialOptions.HandshakeTimeout (10 s by default) even if ctx has no
// deadline: a server that accepts the TCP connection but does not answer
// the WebSocket upgrade gives an error such as "no WebSocket answer from
// HOST within 10s". A refused token or origin gives an error wrapping
// [signal.ErrUnauthorized]. ctx bounds only this first connection; later
// drops are repaired in the background.
//
// Dial returns once the join is sent, before the server answers it: a
// refused join (a full room) is reported by Recv.
//
// With DialOptions.FallbackURLs, Dial tries rawURL and then each of them
// until one connects, and fails with the errors of all of them; a
// refused token or origin ends the tries at once.
func Dial(ctx context.Context, rawURL, room string, opts *DialOptions) (*Client, error) {
	var o DialOptions
	if opts != nil {
		o = *opts
	}
	urls := append([]string{rawURL}, o.FallbackURLs...)
	shown := make([]string, len(urls))
	for i, u := range urls {
		shown[i] = redact(u)
		if err := checkURL(u, shown[i]); err != nil {
			if i > 0 {
				err = fmt.Errorf("DialOptions.FallbackURLs[%d]: %w", i-1, err)
			}
			return nil, err
		}
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		urls: urls, shown: shown, room: room, opts: o, log: o.Logger,
		in: make(chan signal.Message, 64), done: make(chan struct{}), ready: make(chan struct{}),
	}
	c.hc = o.HTTPClient
	if c.hc == nil {
		c.hc, c.ownHC = newHTTPClient(o.Net, o.HandshakeTimeout), true
	}
	var conn *websocket.Conn
	var errs []error
	for i := range urls {
		conn, err = c.connect(ctx, i)
		if err == nil {
			c.cur = i
			break
		}
		errs = append(errs, err)
		if errors.Is(err, signal.ErrUnauthorized) || ctx.Err() != nil {
			break
		}
	}
	if conn == nil {
		c.releaseHTTP()
		return nil, errors.Join(errs...)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.setConn(conn)
	go c.run(conn)
	return c, nil
}

// newHTTPClient returns an HTTP/1.1 client that dials through n, or the
// host's network when n is nil.
func newHTTPClient(n transport.Net, timeout time.Duration) *http.Client {
	dial := (&net.Dialer{}).DialContext
	if n != nil {
		d := n.CreateDialer(&net.Dialer{Timeout: timeout})
		dial = func(_ context.Context, network, addr string) (net.Conn, error) {
			return d.Dial(network, addr)
		}
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial}}
}

func (c *Client) releaseHTTP() {
	if c.ownHC {
		c.hc.CloseIdleConnections()
	}
}

// ID returns the id the server gave this client in its last joined
// message, or "" before the first one arrives.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// AcknowledgesJoins reports whether the server of the Client's latest
// connection said, in the [signal.FeaturesHeader] of its upgrade
// response, that it answers joins with "joined" and announces peers. The
// server of this module's wsserver package does; the original deployment's
// Node.js server does not. It implements [signal.JoinAcknowledger].
func (c *Client) AcknowledgesJoins() bool { return c.acks.Load() }

// Done returns a channel that is closed once the Client has stopped:
// after Close, or when it gave up by itself. Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil while the Client runs. Once Done is closed it returns
// why the Client stopped: [signal.ErrClosed] after Close, or an error
// wrapping [signal.ErrUnauthorized], [signal.ErrRoomFull] or
// [signal.ErrUnreachable] when it gave up by itself (a Close after that
// does not change it).
func (c *Client) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	return c.stopErr()
}

// stopErr is the error that ended the Client, ErrClosed if none is set.
func (c *Client) stopErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return signal.ErrClosed
	}
	return c.err
}

// connect dials c.urls[i] and joins, within the handshake timeout.
func (c *Client) connect(ctx context.Context, i int) (*websocket.Conn, error) {
	h := http.Header{}
	for k, v := range c.opts.Header {
		h[k] = v
	}
	if c.opts.Token != "" {
		h.Set("Authorization", "Bearer "+c.opts.Token)
	}
	hctx, cancel := context.WithTimeoutCause(ctx, c.opts.HandshakeTimeout, errNoAnswer)
	defer cancel()
	conn, resp, err := websocket.Dial(hctx, c.urls[i], &websocket.DialOptions{HTTPClient: c.hc, HTTPHeader: h})
	if err != nil {
		return nil, c.dialError(ctx, hctx, i, resp, err)
	}
	conn.SetReadLimit(c.opts.ReadLimit)
	c.acks.Store(hasFeature(resp.Header, signal.FeatureRooms))
	// After a drop, ask to keep the id the peers know this client by.
	c.mu.Lock()
	id := c.id
	c.mu.Unlock()
	join, _ := json.Marshal(struct {
		Type string `json:"type"`
		Room string `json:"room"`
		ID   string `json:"id,omitempty"`
	}{signal.TypeJoin, c.room, id})
	if err := conn.Write(hctx, websocket.MessageText, join); err != nil {
		conn.CloseNow()
		return nil, &dialError{shown: c.shown[i], msg: fmt.Sprintf("join room %q: %v", c.room, err), err: err}
	}
	return conn, nil
}

// hasFeature reports whether h's FeaturesHeader lists feature.
func hasFeature(h http.Header, feature string) bool {
	for _, v := range h.Values(signal.FeaturesHeader) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), feature) {
				return true
			}
		}
	}
	return false
}

func (c *Client) setConn(conn *websocket.Conn) {
	c.mu.Lock()
	c.conn = conn
	if conn != nil {
		close(c.ready)
	} else {
		c.ready = make(chan struct{})
	}
	c.mu.Unlock()
}

// run reads from the connection and reconnects when it drops, until
// Close or a reason to stop for good.
func (c *Client) run(conn *websocket.Conn) {
	defer close(c.done)
	for {
		err := c.readLoop(conn)
		if c.closing.Load() || c.ctx.Err() != nil {
			conn.CloseNow()
			return
		}
		if errors.Is(err, signal.ErrRoomFull) {
			conn.Close(websocket.StatusNormalClosure, "join refused")
			c.stop(err)
			return
		}
		conn.CloseNow()
		c.setConn(nil)
		c.log.Warn("signal: connection lost, reconnecting", "url", c.shown[c.cur], "room", c.room, "err", err)
		conn, err = c.reconnect(err)
		if err != nil {
			if c.closing.Load() || c.ctx.Err() != nil {
				return
			}
			c.stop(err)
			return
		}
		c.setConn(conn)
		c.log.Info("signal: reconnected", "url", c.shown[c.cur], "room", c.room)
		if !c.deliver(signal.Message{Type: signal.TypeReconnected, Room: c.room}) {
			conn.CloseNow()
			return
		}
	}
}

// stop ends the Client for good because of err, which Recv, Send and Err
// report from now on.
func (c *Client) stop(err error) {
	c.mu.Lock()
	first := c.err == nil
	if first {
		c.err = err
	}
	c.mu.Unlock()
	defer c.releaseHTTP()
	defer c.cancel()
	if !first {
		return // Close came first
	}
	reason := "stopped"
	switch {
	case errors.Is(err, signal.ErrUnauthorized):
		reason = "the server refused the token or origin"
	case errors.Is(err, signal.ErrRoomFull):
		reason = "the server refused the join"
	case errors.Is(err, signal.ErrUnreachable):
		reason = "the server stayed unreachable"
	}
	c.log.Error("signal: client stopped for good: "+reason, "url", c.shown[c.cur], "room", c.room, "err", err)
}

// readLoop delivers conn's messages until it fails. A refusal of the
// Client's own join, the first answer to it, ends it with an error
// wrapping ErrRoomFull.
func (c *Client) readLoop(conn *websocket.Conn) error {
	joinAnswered := false
	for {
		typ, data, err := conn.Read(c.ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			continue
		}
		m, err := signal.ParseMessage(data)
		if err != nil {
			c.log.Warn("signal: dropped malformed message from server", "err", err)
			continue
		}
		switch {
		case m.Type == signal.TypeJoined:
			joinAnswered = true
			if m.ID != "" {
				c.mu.Lock()
				c.id = m.ID
				c.mu.Unlock()
			}
		case m.Type == signal.TypeError && !joinAnswered && (m.Code == signal.CodeRoomFull || m.Code == signal.CodeTooManyRooms):
			return fmt.Errorf("%w: server refused to join room %q at %s: %s (%s)", signal.ErrRoomFull, c.room, c.shown[c.cur], m.Reason, m.Code)
		}
		if !c.deliver(m) {
			return context.Canceled
		}
	}
}

func (c *Client) deliver(m signal.Message) bool {
	select {
	case c.in <- m:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// reconnect retries with jittered exponential backoff until it connects,
// the Client is closed (ErrClosed), the server refuses the token or
// origin (ErrUnauthorized) or ReconnectTimeout passes (ErrUnreachable).
// Each attempt dials the URL after the last one tried; the backoff grows
// once every URL has failed, so that a healthy fallback is reached within
// a short wait per URL.
func (c *Client) reconnect(lost error) (*websocket.Conn, error) {
	ctx, cancel := c.ctx, context.CancelFunc(func() {})
	if rt := c.opts.ReconnectTimeout; rt > 0 {
		ctx, cancel = context.WithTimeout(c.ctx, rt)
	}
	defer cancel()
	last := lost
	wait := c.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if c.ctx.Err() != nil {
			return nil, signal.ErrClosed
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: no connection to %s within %v of losing it; last error: %v",
				signal.ErrUnreachable, strings.Join(c.shown, " or "), c.opts.ReconnectTimeout, last)
		}
		i := (c.cur + 1) % len(c.urls)
		conn, err := c.connect(ctx, i)
		c.cur = i
		if err == nil {
			return conn, nil
		}
		if errors.Is(err, signal.ErrUnauthorized) {
			return nil, err
		}
		if ctx.Err() == nil {
			last = err
		}
		if attempt%len(c.urls) == 0 {
			wait = min(2*wait, c.opts.MaxBackoff)
		}
		c.log.Debug("signal: reconnect failed", "url", c.shown[i], "err", err, "retry_in", wait)
	}
}

// Send writes m to the server. While the connection is down it waits for
// the reconnect, up to ctx. Once the Client has stopped it returns why,
// as Err does.
func (c *Client) Send(ctx context.Context, m signal.Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("signal: encode %s: %w", m.Type, err)
	}
	return c.SendRaw(ctx, data)
}

// SendRaw writes one text frame as it is, for messages with fields
// [signal.Message] does not have. data must be a JSON object.
func (c *Client) SendRaw(ctx context.Context, data []byte) error {
	for {
		c.mu.Lock()
		conn, ready := c.conn, c.ready
		c.mu.Unlock()
		if c.ctx.Err() != nil {
			return c.stopErr()
		}
		if conn != nil {
			err := conn.Write(ctx, websocket.MessageText, data)
			if c.ctx.Err() != nil {
				return c.stopErr()
			}
			if err == nil || ctx.Err() != nil {
				return err
			}
			// The connection dropped under us: wait for the next one.
			c.mu.Lock()
			if c.conn == conn {
				c.mu.Unlock()
				select {
				case <-c.done:
					return c.stopErr()
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(c.opts.MinBackoff):
				}
			} else {
				c.mu.Unlock()
			}
			continue
		}
		select {
		case <-ready:
		case <-c.done:
			return c.stopErr()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Recv returns the next message from the room. Once the Client has
// stopped, and the messages that arrived before are delivered, it returns
// why: [signal.ErrClosed] after Close, or an error wrapping
// [signal.ErrUnauthorized], [signal.ErrRoomFull] or
// [signal.ErrUnreachable] when the Client gave up by itself.
func (c *Client) Recv(ctx context.Context) (signal.Message, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return signal.Message{}, c.stopErr()
	case <-ctx.Done():
		return signal.Message{}, ctx.Err()
	}
}

// Close leaves the room, closes the connection and waits for the
// Client's goroutine to end. It is safe to call more than once, and after
// the Client stopped by itself; it returns nil.
func (c *Client) Close() error {
	if c.closing.Swap(true) {
		<-c.done
		return nil
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = signal.ErrClosed
	}
	conn := c.conn
	c.mu.Unlock()
	if conn != nil && c.ctx.Err() == nil {
		conn.Close(websocket.StatusNormalClosure, "")
	}
	c.cancel()
	<-c.done
	c.releaseHTTP()
	return nil
}

var (
	_ signal.Signaler         = (*Client)(nil)
	_ signal.JoinAcknowledger = (*Client)(nil)
)
