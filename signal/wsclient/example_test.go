package wsclient_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/avlink/avlink/signal"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
)

// Two peers in one room: the robot offers, the viewer receives the offer
// with the robot's id as sender.
func ExampleDial() {
	srv, _ := wsserver.New(wsserver.Config{Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") // ws://127.0.0.1:PORT

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	quiet := &wsclient.DialOptions{Logger: slog.New(slog.DiscardHandler)}
	viewer, err := wsclient.Dial(ctx, url, "realsense", quiet)
	if err != nil {
		panic(err)
	}
	defer viewer.Close()
	// The server answers the join: the viewer is in the room.
	if m, err := viewer.Recv(ctx); err != nil || m.Type != signal.TypeJoined {
		panic(fmt.Sprint(m.Type, err))
	}
	robot, err := wsclient.Dial(ctx, url, "realsense", quiet)
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

// A Client that cannot go on says why from Recv: here the room holds one
// peer and a second one comes.
func ExampleClient_Recv() {
	srv, _ := wsserver.New(wsserver.Config{MaxPeersPerRoom: 1, Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	quiet := &wsclient.DialOptions{Logger: slog.New(slog.DiscardHandler)}
	first, err := wsclient.Dial(ctx, url, "cockpit", quiet)
	if err != nil {
		panic(err)
	}
	defer first.Close()
	if m, _ := first.Recv(ctx); m.Type != signal.TypeJoined {
		panic(m.Type)
	}

	second, err := wsclient.Dial(ctx, url, "cockpit", quiet)
	if err != nil {
		panic(err)
	}
	defer second.Close()
	for {
		_, err := second.Recv(ctx)
		if errors.Is(err, signal.ErrRoomFull) {
			fmt.Println("room full; stopped:", second.Err() != nil)
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output: room full; stopped: true
}

// Only ws:// and wss:// URLs are dialled; the error says what to type.
func ExampleDial_wrongScheme() {
	_, err := wsclient.Dial(context.Background(), "http://localhost:3000", "lab", nil)
	fmt.Println(err)
	fmt.Println(errors.Is(err, wsclient.ErrConfig))
	// Output:
	// signal: invalid dial arguments: signaling URL "http://localhost:3000" is http://, want ws:// (the server speaks WebSocket): try "ws://localhost:3000"
	// true
}
