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

// One robot, two viewers: the Hub calls each viewer on its own peer
// connection, with the session NewSession describes.
func ExampleNewHub() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, _ := wsserver.New(wsserver.Config{Logger: quiet})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
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
