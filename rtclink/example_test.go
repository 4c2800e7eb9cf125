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
	"github.com/avlink/avlink/signal"
)

// A robot and an operator in one room: the robot offers, the operator
// answers, and a teleop command crosses the reliable data channel.
func ExampleNew() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, _ := signal.NewServer(signal.ServerConfig{Logger: quiet})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http")

	ctx := context.Background()
	opSig, _ := signal.Dial(ctx, url, "teleop", &signal.DialOptions{Logger: quiet})
	defer opSig.Close()
	robotSig, _ := signal.Dial(ctx, url, "teleop", &signal.DialOptions{Logger: quiet})
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

	// The channel opens once the peers are connected.
	for operator.SendData(rtclink.Reliable, []byte("forward 0.5")) != nil {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println(<-got)
	// Output: reliable: forward 0.5
}
