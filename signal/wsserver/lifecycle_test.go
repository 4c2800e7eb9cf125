package wsserver

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
)

func TestConfigRefusesNegatives(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{MessagesPerSecond: -1}, "MessagesPerSecond is negative (set NoRateLimit"},
		{Config{MessageBurst: -1}, "MessageBurst is negative (set NoRateLimit"},
		{Config{PingInterval: -time.Second}, "PingInterval is negative (set DisablePings"},
		{Config{MaxMessageBytes: -1}, "MaxMessageBytes is negative"},
		{Config{MaxPeersPerRoom: -1}, "MaxPeersPerRoom is negative"},
		{Config{MaxRooms: -1}, "MaxRooms is negative"},
		{Config{MaxConnections: -1}, "MaxConnections is negative"},
		{Config{QueueBytes: -1}, "QueueBytes is negative"},
		{Config{WriteTimeout: -1}, "WriteTimeout is negative"},
	} {
		_, err := New(c.cfg)
		require.ErrorIs(t, err, ErrConfig, c.want)
		assert.Contains(t, err.Error(), c.want)
	}
	s, err := New(Config{NoRateLimit: true, DisablePings: true, Logger: quietLogger()})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestConfigDefaults(t *testing.T) {
	var zero Config
	perSec, burst := zero.rate()
	assert.Equal(t, 50.0, perSec)
	assert.Equal(t, 200, burst)
	assert.Equal(t, 20*time.Second, zero.pingInterval())

	off := Config{NoRateLimit: true, MessagesPerSecond: 5, DisablePings: true, PingInterval: time.Second}
	perSec, _ = off.rate()
	assert.Zero(t, perSec, "NoRateLimit wins over MessagesPerSecond")
	assert.Zero(t, off.pingInterval(), "DisablePings wins over PingInterval")
}

// With NoRateLimit every message of a burst far over the configured rate
// is forwarded; with the same rate and no NoRateLimit most are refused.
func TestNoRateLimit(t *testing.T) {
	for _, noLimit := range []bool{true, false} {
		_, url := startServer(t, Config{MessagesPerSecond: 1, MessageBurst: 1, NoRateLimit: noLimit})
		a, b := dialRaw(t, url), dialRaw(t, url)
		const n = 30
		for i := range n {
			a.send(`{"type":"candidate","n":` + strconv.Itoa(i) + `}`)
		}
		if !noLimit {
			assert.Equal(t, signal.CodeRateLimited, a.readType(signal.TypeError)["code"])
			continue
		}
		for i := range n {
			m := b.read()
			require.Equal(t, signal.TypeCandidate, m["type"], "message %d", i)
			require.EqualValues(t, i, m["n"])
		}
	}
}

// The upgrade response says that this server acknowledges joins.
func TestUpgradeAnnouncesRooms(t *testing.T) {
	_, url := startServer(t, Config{})
	_, resp := dialWith(t, url, nil)
	assert.Equal(t, signal.FeatureRooms, resp.Header.Get(signal.FeaturesHeader))
}

// Shutdown closes every client with 1001 and no peer-left, refuses new
// connections, reports unhealthy, and returns nil once all is done.
func TestShutdownSendsGoingAway(t *testing.T) {
	s, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.join("r")
	b.join("r")
	a.readType(signal.TypePeerJoined)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	var err error
	var data []byte
	for err == nil {
		_, data, err = a.conn.Read(ctx)
		// Shutting down is not b leaving: a must not drop its call with b.
		assert.NotContains(t, string(data), signal.TypePeerLeft)
	}
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "got %v", err)
	// b answers the close handshake too.
	for err = nil; err == nil; {
		_, _, err = b.conn.Read(ctx)
	}
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "got %v", err)
	require.NoError(t, <-shut)
	assert.Zero(t, s.count())
	_, _, err = websocket.Dial(ctx, url, nil)
	assert.Error(t, err, "a shut down server takes no new connections")
	assertUnhealthy(t, url)
	require.NoError(t, s.Shutdown(ctx), "Shutdown again")
	require.NoError(t, s.Close(), "Close after Shutdown")
}

// A client that never answers the close handshake holds Shutdown up to
// its context only: then the server closes the connection itself.
func TestShutdownGivesUpAtDeadline(t *testing.T) {
	s, url := startServer(t, Config{})
	c, br, _ := dialSilent(t, url)
	require.Equal(t, 1, s.count())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, s.count(), "Shutdown closed what was left")
	ops, err := readFrames(t, c, br)
	assert.Equal(t, []byte{opClose}, ops, "the client was told the server is going away")
	assert.ErrorIs(t, err, io.EOF, "then the server closed the connection")
}

// Close drops every connection at once, without a close handshake, and
// returns after the server's goroutines; it may be called again.
func TestCloseIsImmediate(t *testing.T) {
	s, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.join("r")
	b.join("r")
	a.readType(signal.TypePeerJoined)
	silent, br, _ := dialSilent(t, url) // would hold a graceful shutdown
	require.Equal(t, 3, s.count())

	require.NoError(t, s.Close())
	assert.Zero(t, s.count(), "every connection is gone when Close returns")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = a.conn.Read(ctx) // what was queued, then the end
	}
	assert.Equal(t, websocket.StatusCode(-1), websocket.CloseStatus(err), "no close frame, got %v", err)
	ops, err := readFrames(t, silent, br)
	assert.Empty(t, ops, "no close frame to the silent client")
	assert.ErrorIs(t, err, io.EOF)

	require.NoError(t, s.Close(), "Close again")
	require.NoError(t, s.Shutdown(ctx), "Shutdown after Close")
	_, _, err = websocket.Dial(ctx, url, nil)
	assert.Error(t, err, "a closed server takes no new connections")
	assertUnhealthy(t, url)
}

func assertUnhealthy(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// The server pings each connection every PingInterval (the client sees
// the pings), and routing goes on between them.
func TestKeepalivePingsArrive(t *testing.T) {
	_, url := startServer(t, Config{PingInterval: 50 * time.Millisecond})
	pings := make(chan struct{}, 64)
	a, _ := dialWith(t, url, &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		select {
		case pings <- struct{}{}:
		default:
		}
		return true
	}})
	b := dialRaw(t, url)
	a.join("k")
	b.join("k")
	a.readType(signal.TypePeerJoined)
	backgroundReader(t, a, "none") // pings are seen and answered while reading
	got := backgroundReader(t, b, signal.TypeCandidate)
	for i := range 3 {
		select {
		case <-pings:
		case <-time.After(10 * time.Second):
			t.Fatalf("no ping %d from the server", i)
		}
		a.send(`{"type":"candidate","candidate":{"candidate":"candidate:` + strings.Repeat("x", i) + `"}}`)
		select {
		case m := <-got:
			assert.Equal(t, "candidate:"+strings.Repeat("x", i), m["candidate"].(map[string]any)["candidate"])
		case <-time.After(10 * time.Second):
			t.Fatal("no candidate after a ping")
		}
	}
}

// A peer that does not answer the server's ping is disconnected: the
// connection ends after the ping, without a close handshake, and the peer
// leaves its room.
func TestSilentPeerIsDisconnected(t *testing.T) {
	s, url := startServer(t, Config{PingInterval: 50 * time.Millisecond})
	c, br, _ := dialSilent(t, url)
	require.Equal(t, 1, s.count())
	ops, err := readFrames(t, c, br)
	require.ErrorIs(t, err, io.EOF, "the server ended the connection (frames %v)", ops)
	require.NotEmpty(t, ops)
	assert.Equal(t, byte(opPing), ops[0], "it pinged first")
	assert.NotContains(t, ops, byte(opClose), "a dead peer gets no close handshake")
	// The server's reader cleans up just after the socket closes.
	for i := 0; s.count() > 0 && i < 500; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Zero(t, s.count(), "the peer is gone from the server")
}

// With DisablePings a peer that answers nothing is not pinged: the first
// thing it gets is what another peer sends it.
func TestDisablePingsSendsNone(t *testing.T) {
	s, url := startServer(t, Config{PingInterval: 20 * time.Millisecond, DisablePings: true})
	c, br, _ := dialSilent(t, url)
	// Let several ping intervals pass before the message; this wait is
	// not what is asserted (a ping sent early would come first).
	time.Sleep(200 * time.Millisecond)
	other := dialRaw(t, url)
	other.send(`{"type":"offer","sdp":"x"}`)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	h, err := br.ReadByte()
	require.NoError(t, err)
	assert.Equal(t, byte(0x81), h, "a text frame, not a ping, came first")
	assert.Equal(t, 2, s.count(), "the silent peer is still connected")
}

// The seed corpus of FuzzRouting lives where go test finds it, so that
// every go test run replays it.
func TestFuzzCorpusIsFound(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRouting")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		assert.Equal(t, "go test fuzz v1\n", line, "%s is a corpus file", e.Name())
	}
}
