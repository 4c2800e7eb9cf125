package wsclient

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal/wsserver"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer runs a signaling server on 127.0.0.1:0 and returns its
// ws:// URL.
func startServer(t testing.TB, cfg wsserver.Config) (*wsserver.Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := wsserver.New(cfg)
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

// restartable is a signaling server that can be stopped and started
// again, with another config, on the same address.
type restartable struct {
	t    testing.TB
	addr string
	srv  *wsserver.Server
	hs   *http.Server
}

func newRestartable(t testing.TB, cfg wsserver.Config) *restartable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &restartable{t: t, addr: ln.Addr().String()}
	r.serve(ln, cfg)
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return "ws://" + r.addr }

func (r *restartable) serve(ln net.Listener, cfg wsserver.Config) {
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := wsserver.New(cfg)
	require.NoError(r.t, err)
	r.srv, r.hs = s, &http.Server{Handler: s.Handler()}
	go r.hs.Serve(ln)
}

// stop closes the listener and every connection.
func (r *restartable) stop() {
	if r.srv == nil {
		return
	}
	r.hs.Close()
	r.srv.Close()
	r.srv = nil
}

// restart starts a server with cfg on the same address.
func (r *restartable) restart(cfg wsserver.Config) {
	r.t.Helper()
	r.serve(r.relisten(), cfg)
}

// relisten listens on the address again, once the old listener is gone.
func (r *restartable) relisten() net.Listener {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(r.t, err)
	return nil
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
