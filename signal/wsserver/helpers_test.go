package wsserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer runs a Server on 127.0.0.1:0 and returns its ws:// URL.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := New(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		hs.Close()
	})
	return s, "ws" + strings.TrimPrefix(hs.URL, "http")
}

// rawClient is a bare WebSocket connection speaking the wire format the
// original deployment's browser page and Python aiortc clients speak, with
// nothing of the wsclient package.
type rawClient struct {
	t    testing.TB
	conn *websocket.Conn
}

func dialRaw(t testing.TB, url string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &rawClient{t: t, conn: c}
}

func (r *rawClient) send(s string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(r.t, r.conn.Write(ctx, websocket.MessageText, []byte(s)))
}

func (r *rawClient) readRaw() []byte {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, data, err := r.conn.Read(ctx)
	require.NoError(r.t, err)
	require.Equal(r.t, websocket.MessageText, typ, "server sends text frames only")
	return data
}

func (r *rawClient) read() map[string]any {
	r.t.Helper()
	var m map[string]any
	require.NoError(r.t, json.Unmarshal(r.readRaw(), &m))
	return m
}

// readType skips messages until one of type typ arrives.
func (r *rawClient) readType(typ string) map[string]any {
	r.t.Helper()
	for range 50 {
		m := r.read()
		if m["type"] == typ {
			return m
		}
	}
	r.t.Fatalf("no %q message in 50", typ)
	return nil
}

// join joins room and returns the id the server gave.
func (r *rawClient) join(room string) string {
	r.t.Helper()
	r.send(`{"type":"join","room":"` + room + `"}`)
	m := r.readType(signal.TypeJoined)
	require.Equal(r.t, room, m["room"])
	return m["id"].(string)
}

// dialSilent completes the WebSocket upgrade by hand over a bare TCP
// connection and returns it with the reader past the 101 response: a peer
// that, from then on, answers nothing (its network vanished, or it hung).
func dialSilent(t testing.TB, url string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	addr := strings.TrimPrefix(url, "ws://")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	return c, br, resp
}

// readFrames reads server frames from br until the connection ends, and
// returns the opcodes seen and the error that ended it. Server frames are
// unmasked. A read deadline guards against a server that never ends it.
func readFrames(t testing.TB, c net.Conn, br *bufio.Reader) ([]byte, error) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	var ops []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return ops, err
		}
		ops = append(ops, h[0]&0x0F)
		n := int64(h[1] & 0x7F)
		switch n {
		case 126:
			var l [2]byte
			if _, err := io.ReadFull(br, l[:]); err != nil {
				return ops, err
			}
			n = int64(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			if _, err := io.ReadFull(br, l[:]); err != nil {
				return ops, err
			}
			n = int64(binary.BigEndian.Uint64(l[:])) //nolint:gosec // a test server's frame
		}
		if _, err := io.CopyN(io.Discard, br, n); err != nil {
			return ops, err
		}
	}
}

// dialWith dials url with opts, for tests that need the library's hooks.
func dialWith(t testing.TB, url string, opts *websocket.DialOptions) (*rawClient, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &rawClient{t: t, conn: c}, resp
}
