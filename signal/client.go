package signal

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// DialOptions configures a [Client]. The zero value dials with the
// standard network and reconnects with backoff from 250 ms to 10 s.
type DialOptions struct {
	// Token is sent as "Authorization: Bearer <token>" when set.
	Token string
	// Header holds extra request headers (an Origin, a cookie).
	Header http.Header
	// HTTPClient is used for the upgrade request. Nil means a client that
	// dials through Net.
	HTTPClient *http.Client
	// Net is the network to dial through. Nil means the host's network.
	Net transport.Net
	// Logger receives reconnects. Nil means slog.Default().
	Logger *slog.Logger
	// MinBackoff and MaxBackoff bound the wait between reconnect
	// attempts. 0 means 250 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// ReadLimit is the largest message accepted. 0 means 1 MiB.
	ReadLimit int64
}

// Client is a [Signaler] over a WebSocket. It joins its room on connect,
// and when the connection drops it reconnects with backoff, rejoins, and
// delivers a TypeReconnected message from Recv.
type Client struct {
	url  string
	room string
	opts DialOptions
	log  *slog.Logger
	hc   *http.Client

	ctx    context.Context
	cancel context.CancelFunc
	in     chan Message
	done   chan struct{}

	mu    sync.Mutex
	conn  *websocket.Conn
	ready chan struct{} // closed while conn is usable
	id    string

	closing atomic.Bool
}

// Dial connects to the signaling server at url (ws:// or wss://), joins
// room, and returns a Client that stays connected until Close. The first
// connection must succeed; later drops are repaired in the background.
func Dial(ctx context.Context, url, room string, opts *DialOptions) (*Client, error) {
	c := &Client{url: url, room: room, in: make(chan Message, 64), done: make(chan struct{}), ready: make(chan struct{})}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MinBackoff <= 0 {
		c.opts.MinBackoff = 250 * time.Millisecond
	}
	if c.opts.MaxBackoff <= 0 {
		c.opts.MaxBackoff = 10 * time.Second
	}
	if c.opts.ReadLimit <= 0 {
		c.opts.ReadLimit = 1 << 20
	}
	c.log = c.opts.Logger
	if c.log == nil {
		c.log = slog.Default()
	}
	c.hc = c.opts.HTTPClient
	if c.hc == nil {
		n := c.opts.Net
		if n == nil {
			var err error
			if n, err = stdnet.NewNet(); err != nil {
				return nil, fmt.Errorf("signal: network: %w", err)
			}
		}
		d := n.CreateDialer(&net.Dialer{Timeout: 10 * time.Second})
		c.hc = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return d.Dial(network, addr)
			},
		}}
	}
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.setConn(conn)
	go c.run(conn)
	return c, nil
}

// ID returns the id the server gave this client in its last joined
// message, or "" before the first one arrives.
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// connect dials and joins.
func (c *Client) connect(ctx context.Context) (*websocket.Conn, error) {
	h := http.Header{}
	for k, v := range c.opts.Header {
		h[k] = v
	}
	if c.opts.Token != "" {
		h.Set("Authorization", "Bearer "+c.opts.Token)
	}
	conn, resp, err := websocket.Dial(ctx, c.url, &websocket.DialOptions{HTTPClient: c.hc, HTTPHeader: h})
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) {
			return nil, fmt.Errorf("signal: dial %s: %w (HTTP %d)", c.url, ErrUnauthorized, resp.StatusCode)
		}
		return nil, fmt.Errorf("signal: dial %s: %w", c.url, err)
	}
	conn.SetReadLimit(c.opts.ReadLimit)
	// After a drop, ask to keep the id the peers know this client by.
	c.mu.Lock()
	id := c.id
	c.mu.Unlock()
	join, _ := json.Marshal(struct {
		Type string `json:"type"`
		Room string `json:"room"`
		ID   string `json:"id,omitempty"`
	}{TypeJoin, c.room, id})
	if err := conn.Write(ctx, websocket.MessageText, join); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("signal: join %q: %w", c.room, err)
	}
	return conn, nil
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

// run reads from the connection and reconnects when it drops.
func (c *Client) run(conn *websocket.Conn) {
	defer close(c.done)
	for {
		err := c.readLoop(conn)
		conn.CloseNow()
		if c.closing.Load() || c.ctx.Err() != nil {
			return
		}
		c.setConn(nil)
		c.log.Warn("signal: connection lost, reconnecting", "url", c.url, "err", err)
		conn = c.reconnect()
		if conn == nil {
			return
		}
		c.setConn(conn)
		c.log.Info("signal: reconnected", "url", c.url, "room", c.room)
		if !c.deliver(Message{Type: TypeReconnected, Room: c.room}) {
			conn.CloseNow()
			return
		}
	}
}

func (c *Client) readLoop(conn *websocket.Conn) error {
	for {
		typ, data, err := conn.Read(c.ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageText {
			continue
		}
		m, err := ParseMessage(data)
		if err != nil {
			c.log.Warn("signal: dropped malformed message from server", "err", err)
			continue
		}
		if m.Type == TypeJoined && m.ID != "" {
			c.mu.Lock()
			c.id = m.ID
			c.mu.Unlock()
		}
		if !c.deliver(m) {
			return context.Canceled
		}
	}
}

func (c *Client) deliver(m Message) bool {
	select {
	case c.in <- m:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// reconnect retries with jittered exponential backoff until it connects
// or the client is closed.
func (c *Client) reconnect() *websocket.Conn {
	wait := c.opts.MinBackoff
	for {
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-c.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		conn, err := c.connect(ctx)
		cancel()
		if err == nil {
			return conn
		}
		c.log.Debug("signal: reconnect failed", "url", c.url, "err", err, "retry_in", wait)
		wait = min(2*wait, c.opts.MaxBackoff)
	}
}

// Send writes m to the server. While the connection is down it waits for
// the reconnect, up to ctx.
func (c *Client) Send(ctx context.Context, m Message) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("signal: encode %s: %w", m.Type, err)
	}
	return c.SendRaw(ctx, data)
}

// SendRaw writes one text frame as it is, for messages with fields
// [Message] does not have. data must be a JSON object.
func (c *Client) SendRaw(ctx context.Context, data []byte) error {
	for {
		c.mu.Lock()
		conn, ready := c.conn, c.ready
		c.mu.Unlock()
		if conn != nil {
			err := conn.Write(ctx, websocket.MessageText, data)
			if err == nil || ctx.Err() != nil || c.ctx.Err() != nil {
				if c.ctx.Err() != nil {
					return ErrClosed
				}
				return err
			}
			// The connection dropped under us: wait for the next one.
			c.mu.Lock()
			if c.conn == conn {
				c.mu.Unlock()
				select {
				case <-c.done:
					return ErrClosed
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
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Recv returns the next message from the room.
func (c *Client) Recv(ctx context.Context) (Message, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return Message{}, ErrClosed
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Close leaves the room and closes the connection. It is safe to call more
// than once.
func (c *Client) Close() error {
	if c.closing.Swap(true) {
		<-c.done
		return nil
	}
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		conn.Close(websocket.StatusNormalClosure, "")
	}
	c.cancel()
	<-c.done
	return nil
}

var _ Signaler = (*Client)(nil)
