package wsclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
	"github.com/avlink/avlink/signal/wsserver"
)

func TestClientExchangesTypedMessages(t *testing.T) {
	_, url := startServer(t, wsserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Dial(ctx, url, "robot", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer a.Close()
	m, err := a.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, signal.TypeJoined, m.Type)
	assert.Equal(t, m.ID, a.ID())

	b, err := Dial(ctx, url, "robot", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer b.Close()
	m, err = b.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID()}, m.Peers)

	mid, idx := "0", uint16(0)
	cand := &signal.Candidate{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", SDPMid: &mid, SDPMLineIndex: &idx}
	require.NoError(t, b.Send(ctx, signal.Message{Type: signal.TypeCandidate, Candidate: cand}))
	for {
		m, err = a.Recv(ctx)
		require.NoError(t, err)
		if m.Type == signal.TypeCandidate {
			break
		}
	}
	assert.Equal(t, cand, m.Candidate)
	assert.Equal(t, b.ID(), m.Sender)
	assert.Contains(t, string(m.Raw), `"sdpMLineIndex":0`)
}

// recvUntil reads c until a message of type typ and returns it.
func recvUntil(t *testing.T, ctx context.Context, c *Client, typ string) signal.Message {
	t.Helper()
	for {
		m, err := c.Recv(ctx)
		require.NoError(t, err, "waiting for %q", typ)
		if m.Type == typ {
			return m
		}
	}
}

// recvErr reads c until Recv fails and returns the types of the messages
// before it and the error.
func recvErr(t *testing.T, ctx context.Context, c *Client) ([]string, error) {
	t.Helper()
	var types []string
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			require.NoError(t, ctx.Err(), "Recv did not end; got %v", types)
			return types, err
		}
		types = append(types, m.Type)
	}
}

func TestClientReconnectsAfterServerRestart(t *testing.T) {
	r := newRestartable(t, wsserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := &DialOptions{Logger: quietLogger(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	a, err := Dial(ctx, r.url(), "r", opts)
	require.NoError(t, err)
	defer a.Close()
	recvUntil(t, ctx, a, signal.TypeJoined)
	id := a.ID()
	require.NotEmpty(t, id)

	r.stop()
	r.restart(wsserver.Config{})
	recvUntil(t, ctx, a, signal.TypeReconnected)
	m := recvUntil(t, ctx, a, signal.TypeJoined)
	assert.Equal(t, "r", m.Room)
	assert.Equal(t, id, a.ID(), "the client resumed its id")
	assert.True(t, a.AcknowledgesJoins())
	// The rejoined client is in its room again.
	b, err := Dial(ctx, r.url(), "r", opts)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, b.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: "after-restart"}))
	assert.Equal(t, "after-restart", recvUntil(t, ctx, a, signal.TypeOffer).SDP)
	assert.Nil(t, a.Err(), "a running client has no error")
}

func TestClientCloseIsIdempotentAndEndsRecv(t *testing.T) {
	_, url := startServer(t, wsserver.Config{})
	ctx := context.Background()
	a, err := Dial(ctx, url, "r", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	select {
	case <-a.Done():
	default:
		t.Fatal("Done is not closed after Close")
	}
	_, err = recvErr(t, ctx, a)
	assert.ErrorIs(t, err, signal.ErrClosed)
	assert.ErrorIs(t, a.Err(), signal.ErrClosed)
	assert.ErrorIs(t, a.Send(ctx, signal.Message{Type: signal.TypeOffer}), signal.ErrClosed)
}

// A join the server refuses stops the client: on the first connection
// (Dial has returned by then), Recv reports it with ErrRoomFull, and the
// log says so once at error level.
func TestRoomFullStopsClient(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  wsserver.Config
		room string
		code string
	}{
		{"room full", wsserver.Config{MaxPeersPerRoom: 1}, "cockpit", signal.CodeRoomFull},
		{"too many rooms", wsserver.Config{MaxRooms: 1}, "another", signal.CodeTooManyRooms},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, url := startServer(t, c.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			first, err := Dial(ctx, url, "cockpit", &DialOptions{Logger: quietLogger()})
			require.NoError(t, err)
			defer first.Close()
			recvUntil(t, ctx, first, signal.TypeJoined)

			var logs logBuffer
			second, err := Dial(ctx, url, c.room, &DialOptions{Logger: logs.logger()})
			require.NoError(t, err, "Dial returns before the join is answered")
			defer second.Close()
			before, err := recvErr(t, ctx, second)
			require.ErrorIs(t, err, signal.ErrRoomFull)
			assert.Contains(t, err.Error(), c.code)
			assert.Contains(t, err.Error(), `"`+c.room+`"`)
			assert.Empty(t, before, "the refusal is not delivered as a message")
			<-second.Done()
			assert.ErrorIs(t, second.Err(), signal.ErrRoomFull)
			assert.ErrorIs(t, second.Send(ctx, signal.Message{Type: signal.TypeOffer}), signal.ErrRoomFull)
			assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), "one error line: %s", logs.String())
			assert.Contains(t, logs.String(), "refused the join")
		})
	}
}

// A join the client sends itself, once in its room, is answered like any
// message: a refusal of it is delivered, and the client goes on.
func TestLaterRefusalIsDelivered(t *testing.T) {
	_, url := startServer(t, wsserver.Config{MaxPeersPerRoom: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Dial(ctx, url, "one", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer a.Close()
	b, err := Dial(ctx, url, "two", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer b.Close()
	recvUntil(t, ctx, a, signal.TypeJoined)
	recvUntil(t, ctx, b, signal.TypeJoined)
	require.NoError(t, b.Send(ctx, signal.Message{Type: signal.TypeJoin, Room: "one"}))
	assert.Equal(t, signal.CodeRoomFull, recvUntil(t, ctx, b, signal.TypeError).Code)
	assert.Nil(t, b.Err())
}

// A reconnect the server refuses for the token stops the client with
// ErrUnauthorized: the server came back with another token.
func TestReconnectRefusedStopsClient(t *testing.T) {
	r := newRestartable(t, wsserver.Config{Token: "old"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var logs logBuffer
	a, err := Dial(ctx, r.url(), "r", &DialOptions{Token: "old", Logger: logs.logger(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	require.NoError(t, err)
	defer a.Close()
	recvUntil(t, ctx, a, signal.TypeJoined)

	r.stop()
	r.restart(wsserver.Config{Token: "new"})
	_, err = recvErr(t, ctx, a)
	require.ErrorIs(t, err, signal.ErrUnauthorized)
	assert.Contains(t, err.Error(), "HTTP 403")
	assert.Contains(t, err.Error(), r.url())
	assert.ErrorIs(t, a.Err(), signal.ErrUnauthorized)
	assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), "one error line: %s", logs.String())
	assert.Contains(t, logs.String(), "refused the token")
}

// A server that stays away longer than ReconnectTimeout stops the client
// with ErrUnreachable, after the messages that arrived before the drop.
func TestUnreachableStopsClient(t *testing.T) {
	r := newRestartable(t, wsserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var logs logBuffer
	a, err := Dial(ctx, r.url(), "r", &DialOptions{Logger: logs.logger(), MinBackoff: 20 * time.Millisecond, ReconnectTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	defer a.Close()
	recvUntil(t, ctx, a, signal.TypeJoined)
	b, err := Dial(ctx, r.url(), "r", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer b.Close()
	recvUntil(t, ctx, b, signal.TypeJoined)
	for _, sdp := range []string{"1", "2", "3"} {
		require.NoError(t, b.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: sdp}))
	}
	// b's peer-joined, its join and its three offers are queued in a
	// before the server goes.
	for i := 0; len(a.in) < 5 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	require.Len(t, a.in, 5)

	r.stop()
	before, err := recvErr(t, ctx, a)
	require.ErrorIs(t, err, signal.ErrUnreachable)
	assert.Equal(t, []string{signal.TypePeerJoined, signal.TypeJoin, signal.TypeOffer, signal.TypeOffer, signal.TypeOffer}, before,
		"what arrived before the drop is delivered first")
	assert.Contains(t, err.Error(), r.url())
	assert.Contains(t, err.Error(), "300ms")
	assert.Contains(t, err.Error(), "connection refused", "the last attempt's error")
	assert.ErrorIs(t, a.Err(), signal.ErrUnreachable)
	assert.Equal(t, 1, strings.Count(logs.String(), "level=ERROR"), "one error line: %s", logs.String())
	assert.Contains(t, logs.String(), "unreachable")
}

func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws://" + addr + "/signal"
	_, err = Dial(ctx, url, "r", nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "signal: dial "+url+": "), "the URL as typed: %v", err)
	assert.NotContains(t, err.Error(), "http://")
	assert.Contains(t, err.Error(), "connection refused")
}

// A server that accepts the TCP connection and never answers fails Dial
// after HandshakeTimeout, although ctx has no deadline.
func TestDialHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c // accepted, never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range held {
			c.Close()
		}
	})
	addr := ln.Addr().String()
	url := "ws://" + addr
	_, err = Dial(context.Background(), url, "r", &DialOptions{HandshakeTimeout: 100 * time.Millisecond})
	require.Error(t, err)
	assert.Equal(t, "signal: dial "+url+": no WebSocket answer from "+addr+" within 100ms", err.Error())
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// A caller's deadline that comes first is the caller's: it is not
	// reported as the server's silence.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, url, "r", &DialOptions{HandshakeTimeout: time.Hour})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, "signal: dial "+url+": context deadline exceeded", err.Error())
}

func TestDialOptionsDefaults(t *testing.T) {
	o, err := DialOptions{}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, o.HandshakeTimeout)
	assert.Zero(t, o.ReconnectTimeout, "reconnect forever")
	assert.Equal(t, 250*time.Millisecond, o.MinBackoff)
	assert.Equal(t, 10*time.Second, o.MaxBackoff)
	assert.EqualValues(t, 1<<20, o.ReadLimit)
	assert.NotNil(t, o.Logger)

	for _, bad := range []DialOptions{
		{HandshakeTimeout: -1}, {ReconnectTimeout: -1}, {MinBackoff: -1}, {MaxBackoff: -1}, {ReadLimit: -1},
		{MinBackoff: time.Second, MaxBackoff: time.Millisecond},
	} {
		_, err := Dial(context.Background(), "ws://127.0.0.1:1", "r", &bad)
		assert.ErrorIs(t, err, ErrConfig, "%+v", bad)
	}
}

// Only ws:// and wss:// URLs are dialled, and a mistake is explained with
// what was typed and what is expected.
func TestDialURLs(t *testing.T) {
	for _, c := range []struct {
		url  string
		want []string
	}{
		{"http://localhost:3000", []string{`"http://localhost:3000" is http://`, `want ws://`, `try "ws://localhost:3000"`}},
		{"https://signal.example.com/ws", []string{`"https://signal.example.com/ws" is https://`, `want wss://`, `try "wss://signal.example.com/ws"`}},
		{"HTTP://localhost:3000", []string{`"HTTP://localhost:3000" is http://`}},
		{"localhost:3000", []string{`"localhost:3000" has no scheme`, `want ws://HOST[:PORT][/PATH]`, `"ws://localhost:3000"`}},
		{"127.0.0.1:3000", []string{`"127.0.0.1:3000" has no scheme`, `"ws://127.0.0.1:3000"`}},
		{"signal.example.com", []string{`"signal.example.com" has no scheme`}},
		{"", []string{"empty", "want ws://"}},
		{"ftp://example.com", []string{`"ftp://example.com" has scheme "ftp"`, "want ws://"}},
		{"ws://", []string{`"ws://" has no host`, "want ws://"}},
		{"ws:///path", []string{`"ws:///path" has no host`}},
		{"ws://[::1", []string{`"ws://[::1" is malformed`, "want ws://"}},
		{"ws://local host:3000", []string{`"ws://local host:3000" is malformed`}},
		{"ws:/localhost:3000", []string{`"ws:/localhost:3000" is malformed`}},
		{"http://localhost:3000/?token=s3cret", []string{`"http://localhost:3000/?token=REDACTED"`}},
	} {
		_, err := Dial(context.Background(), c.url, "r", nil)
		require.ErrorIs(t, err, ErrConfig, "%q", c.url)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, "%q", c.url)
		}
		assert.NotContains(t, err.Error(), "s3cret")
	}
}

// Every dial error names the URL as the caller typed it, never the
// http:// one the WebSocket library makes of it.
func TestDialErrorsShowTypedURL(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	defer hs.Close()
	host := strings.TrimPrefix(hs.URL, "http://")
	for _, typed := range []string{"ws://" + host + "/signal", "WS://" + host + "/signal"} {
		_, err := Dial(context.Background(), typed, "r", nil)
		require.Error(t, err)
		assert.Equal(t, "signal: dial "+typed+": HTTP 404 Not Found instead of a WebSocket upgrade (404 page not found)", err.Error())
	}

	_, url := startServer(t, wsserver.Config{Token: "s3cret"})
	typed := url + "/?token=wrong&room=x"
	_, err := Dial(context.Background(), typed, "r", nil)
	require.ErrorIs(t, err, signal.ErrUnauthorized)
	assert.Contains(t, err.Error(), "signal: dial "+url+"/?token=REDACTED&room=x: ")
	assert.Contains(t, err.Error(), "HTTP 403: missing or wrong token")
	assert.NotContains(t, err.Error(), "wrong&")
	assert.NotContains(t, err.Error(), "http://")
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"ws://h:1":                          "ws://h:1",
		"ws://h:1/?token=abc":               "ws://h:1/?token=REDACTED",
		"ws://h:1/p?a=1&token=abc&b=2#frag": "ws://h:1/p?a=1&token=REDACTED&b=2#frag",
		"ws://h:1/?mytoken=abc":             "ws://h:1/?mytoken=abc",
	} {
		assert.Equal(t, want, redact(in))
	}
}

// bareRelay is a WebSocket server that reads and answers nothing, and
// sends no features header, as the original Node.js server does not.
var bareRelay = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	for {
		if _, _, err := ws.Read(context.Background()); err != nil {
			return
		}
	}
})

// The server of this module says, at the upgrade, that it acknowledges
// joins; a server that says nothing (the original Node.js one, or a bare
// relay) does not. The answer is the latest connection's.
func TestAcknowledgesJoins(t *testing.T) {
	r := newRestartable(t, wsserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, r.url(), "r", &DialOptions{Logger: quietLogger(), MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	require.NoError(t, err)
	defer c.Close()
	assert.True(t, c.AcknowledgesJoins(), "wsserver acknowledges joins")

	// The same address now serves a bare relay.
	r.stop()
	hs := &http.Server{Handler: bareRelay}
	go hs.Serve(r.relisten())
	t.Cleanup(func() { hs.Close() })
	recvUntil(t, ctx, c, signal.TypeReconnected)
	assert.False(t, c.AcknowledgesJoins(), "after reconnecting to a server without the header")

	bare := httptest.NewServer(bareRelay)
	defer bare.Close()
	n, err := Dial(ctx, "ws"+strings.TrimPrefix(bare.URL, "http"), "r", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	assert.False(t, n.AcknowledgesJoins(), "a server without the header")
	n.Close()
}

func TestHasFeature(t *testing.T) {
	h := http.Header{}
	assert.False(t, hasFeature(h, signal.FeatureRooms))
	h.Set(signal.FeaturesHeader, "other, Rooms")
	assert.True(t, hasFeature(h, signal.FeatureRooms))
	h.Set(signal.FeaturesHeader, "roomsx")
	assert.False(t, hasFeature(h, signal.FeatureRooms))
}
