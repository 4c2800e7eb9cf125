package avlink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/avlink/avlink/rtclink"
	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
)

// A signaling server, a robot and a viewer in one process: the robot
// offers a teleop channel, the viewer answers and sends a drive command
// on it. Real programs add a camera (rtclink.VideoSender) and a TURN
// server (rtclink.Config.ICEServers); the calls are the same.
func Example() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// The signaling server, on a free loopback port.
	srv, _ := wsserver.New(wsserver.Config{Logger: quiet})
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	url := "ws://" + ln.Addr().String()

	// The robot offers and executes what arrives on its teleop channel.
	robotSig, _ := wsclient.Dial(ctx, url, "yard", &wsclient.DialOptions{Logger: quiet})
	defer robotSig.Close()
	got := make(chan string, 1)
	robot, err := rtclink.New(rtclink.Config{
		Signaler:        robotSig,
		Role:            rtclink.Offerer,
		Channels:        []rtclink.ChannelConfig{{Label: "teleop"}},
		OnData:          func(ch rtclink.Channel, cmd []byte) { got <- string(ch) + ": " + string(cmd) },
		IncludeLoopback: true, // the peers are on one host with no other network
		Logger:          quiet,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer robot.Close()

	// The viewer answers, waits for the channel and drives.
	viewerSig, _ := wsclient.Dial(ctx, url, "yard", &wsclient.DialOptions{Logger: quiet})
	defer viewerSig.Close()
	viewer, _ := rtclink.New(rtclink.Config{Signaler: viewerSig, IncludeLoopback: true, Logger: quiet})
	defer viewer.Close()
	if err := viewer.WaitChannel(ctx, "teleop"); err != nil {
		fmt.Println(err)
		return
	}
	_ = viewer.SendData("teleop", []byte(`{"linear":0.5}`))
	fmt.Println(<-got)
	// Output: teleop: {"linear":0.5}
}
