package mediabench

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/avlink/avlink/signal/wsserver"
)

// Signaling is the real signaling server on 127.0.0.1, for the peers of
// a benchmark.
type Signaling struct {
	// URL is the ws:// address peers dial.
	URL string
	srv *wsserver.Server
	hs  *http.Server
	ln  net.Listener
}

// StartSignaling starts a signaling server on a free loopback port.
func StartSignaling(log *slog.Logger) (*Signaling, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv, err := wsserver.New(wsserver.Config{Logger: log})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Signaling{URL: "ws://" + ln.Addr().String(), srv: srv, ln: ln,
		hs: &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close disconnects every client and stops the server.
func (s *Signaling) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if herr := s.hs.Shutdown(ctx); herr != nil && !errors.Is(herr, http.ErrServerClosed) {
		err = errors.Join(err, herr)
	}
	return err
}
