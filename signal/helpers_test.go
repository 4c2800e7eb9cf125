package signal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer runs a Server on 127.0.0.1:0 and returns its ws:// URL.
func startServer(t testing.TB, cfg ServerConfig) (*Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := NewServer(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
		hs.Close()
	})
	return s, "ws" + strings.TrimPrefix(hs.URL, "http")
}

// rawClient is a bare WebSocket connection speaking the wire format the
// article's clients speak, with nothing of this package's client.
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
	m := r.readType(TypeJoined)
	require.Equal(r.t, room, m["room"])
	return m["id"].(string)
}
