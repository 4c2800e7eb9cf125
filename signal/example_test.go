package signal_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/avlink/avlink/signal"
)

// Mount the server in your own mux, beside your own handlers.
func ExampleServer() {
	srv, err := signal.NewServer(signal.ServerConfig{
		MaxPeersPerRoom: 8,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv) // ws://host:3000, as the article's clients dial it
	mux.Handle("/healthz", srv.Health())
	mux.Handle("/metrics", srv.Metrics())

	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer srv.Close(context.Background())

	resp, err := http.Get(hs.URL + "/healthz")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	// Output: ok
}

// Two peers in one room: the robot offers, the viewer receives the offer
// with the robot's id as sender.
func ExampleDial() {
	srv, _ := signal.NewServer(signal.ServerConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	quiet := &signal.DialOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	viewer, err := signal.Dial(ctx, url, "realsense", quiet)
	if err != nil {
		panic(err)
	}
	defer viewer.Close()
	robot, err := signal.Dial(ctx, url, "realsense", quiet)
	if err != nil {
		panic(err)
	}
	defer robot.Close()

	var robotID string
	for {
		m, err := viewer.Recv(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		if m.Type == signal.TypePeerJoined {
			robotID = m.Peer
			// The robot is in the room: it can offer now.
			robot.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: "v=0"})
		}
		if m.Type == signal.TypeOffer {
			fmt.Println(m.Type, m.SDP, m.Sender == robotID)
			return
		}
	}
	// Output: offer v=0 true
}
