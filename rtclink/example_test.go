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
	srv, _ := wsserver.New(wsserver.Config{Logger: quiet})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

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
