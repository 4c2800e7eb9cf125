package rtclink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
)

// A robot and an operator in one room: the robot offers, the operator
// answers, and a teleop command crosses the reliable data channel.
func ExampleNew() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	url, stop := exampleServer(quiet)
	defer stop()

	ctx := context.Background()
	opSig, _ := wsclient.Dial(ctx, url, "teleop", &wsclient.DialOptions{Logger: quiet})
	defer opSig.Close()
	robotSig, _ := wsclient.Dial(ctx, url, "teleop", &wsclient.DialOptions{Logger: quiet})
	defer robotSig.Close()

	got := make(chan string, 1)
	robot, err := rtclink.New(rtclink.Config{
		Signaler:        robotSig,
		Role:            rtclink.Offerer,
		DataChannels:    true,
		IncludeLoopback: true,
		Logger:          quiet,
		OnData:          func(ch rtclink.Channel, data []byte) { got <- ch.String() + ": " + string(data) },
	})
	if err != nil {
		panic(err)
	}
	defer robot.Close()
	operator, _ := rtclink.New(rtclink.Config{Signaler: opSig, DataChannels: true, IncludeLoopback: true, Logger: quiet})
	defer operator.Close()

	// The channel opens once the peers are connected: wait for it.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := operator.WaitChannel(wctx, rtclink.Reliable); err != nil {
		panic(err)
	}
	if err := operator.SendData(rtclink.Reliable, []byte("forward 0.5")); err != nil {
		panic(err)
	}
	fmt.Println(<-got)
	// Output: avlink-reliable: forward 0.5
}

// One robot, two viewers: the Hub calls each viewer on its own peer
// connection, with the session NewSession describes.
func ExampleNewHub() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	url, stop := exampleServer(quiet)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	robotSig, _ := wsclient.Dial(ctx, url, "yard", &wsclient.DialOptions{Logger: quiet})
	hub, err := rtclink.NewHub(rtclink.HubConfig{
		Signaler:   robotSig,
		MaxViewers: 8,
		Logger:     quiet,
		NewSession: func(viewer string) (rtclink.Config, error) {
			// Each viewer's own readers of the robot's sources go here
			// (capture.ShareVideo, capture/broadcast).
			return rtclink.Config{DataChannels: true, IncludeLoopback: true}, nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer hub.Close()

	for range 2 {
		sig, _ := wsclient.Dial(ctx, url, "yard", &wsclient.DialOptions{Logger: quiet})
		defer sig.Close()
		viewer, _ := rtclink.New(rtclink.Config{Signaler: sig, IncludeLoopback: true, Logger: quiet})
		defer viewer.Close()
		if err := viewer.WaitChannel(ctx, rtclink.Reliable); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("viewers served:", len(hub.Viewers()))
	// Output: viewers served: 2
}

// exampleServer runs a signaling server on loopback and returns its
// WebSocket URL.
func exampleServer(log *slog.Logger) (url string, stop func()) {
	srv, _ := wsserver.New(wsserver.Config{Logger: log})
	hs := httptest.NewServer(srv)
	return "ws" + strings.TrimPrefix(hs.URL, "http"), func() {
		hs.Close()
		_ = srv.Shutdown(context.Background())
	}
}
