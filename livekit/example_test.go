package livekit_test

import (
	"errors"
	"fmt"

	"github.com/avlink/avlink/livekit"
	"github.com/avlink/avlink/rtclink"
)

// A robot switches from peer-to-peer to LiveKit by building this Config
// instead of an rtclink.Config; the same senders publish into the room.
// Without the server's address and keys it is refused before any
// connection is tried.
func ExampleNew() {
	var video *rtclink.VideoSender // the robot's camera, as for rtclink
	s, err := livekit.New(livekit.Config{
		Room: "robots", Identity: "robot-1", Video: video,
		// URL: "wss://lk.example.com", APIKey: "...", APISecret: "...",
	})
	fmt.Println(s == nil, errors.Is(err, livekit.ErrConfig))
	if err == nil {
		var _ rtclink.Session = s // what the rest of the program holds
	}
	// Output: true true
}
