package wsserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/avlink/avlink/signal"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
)

// Mount the server in your own mux, beside your own handlers.
func ExampleNew() {
	srv, err := wsserver.New(wsserver.Config{
		MaxPeersPerRoom: 8,
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/", srv) // ws://host:3000/, where the original clients dial
	mux.Handle("/healthz", srv.Health())
	mux.Handle("/metrics", srv.Metrics())

	hs := httptest.NewServer(mux)
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/healthz")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	// Output: ok
}

// Run the server on an http.Server of its own and shut it down
// gracefully, as on SIGTERM: clients are closed with status 1001 (going
// away) and reconnect, here in vain.
func ExampleServer_Shutdown() {
	quiet := slog.New(slog.DiscardHandler)
	srv, err := wsserver.New(wsserver.Config{Logger: quiet})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	robot, err := wsclient.Dial(ctx, "ws://"+ln.Addr().String(), "lab", &wsclient.DialOptions{
		Logger: quiet, ReconnectTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		panic(err)
	}
	defer robot.Close()
	m, _ := robot.Recv(ctx)
	fmt.Println("robot:", m.Type, m.Room)

	// On SIGTERM: stop taking connections, then let the open ones go.
	_ = hs.Shutdown(ctx)
	fmt.Println("shutdown:", srv.Shutdown(ctx))

	for {
		m, err := robot.Recv(ctx)
		if err != nil {
			fmt.Println("robot gave up, server unreachable:", errors.Is(err, signal.ErrUnreachable))
			break
		}
		fmt.Println("robot:", m.Type)
	}
	// Output:
	// robot: joined lab
	// shutdown: <nil>
	// robot gave up, server unreachable: true
}
