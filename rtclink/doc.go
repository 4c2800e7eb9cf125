// Package rtclink runs a call between a robot and a person (or another
// robot): video, audio and data over WebRTC, negotiated over a
// [signal.Signaler].
//
// A [Session] is what a program does with a call: wait for it to connect,
// send and receive data, add a track, read stats, learn why it ended.
// [PeerSession], made by [New], is the default Session: one WebRTC peer
// connection that owns everything between the sources and the sinks —
// negotiation in either role, trickle ICE (and whole-SDP peers that never
// trickle), ICE restart, NACK, RTCP reports, transport-wide congestion
// control with a GCC estimate that steers the video encoder, data
// channels and stats. Media comes from package capture and goes to
// package playback; codecs are passed in as interfaces, so this package
// builds without cgo and links no WebSocket library: bring any Signaler.
//
// A robot that sends its camera:
//
//	sig, _ := wsclient.Dial(ctx, "ws://server:3000", "realsense", nil)
//	enc, _ := vp8.NewEncoder(vp8.EncoderConfig{})
//	s, _ := rtclink.New(rtclink.Config{
//		Signaler: sig,
//		Role:     rtclink.Offerer,
//		Video:    &rtclink.VideoSender{Source: camera, Encoder: enc},
//		Channels: []rtclink.ChannelConfig{{Label: "teleop"}},
//		OnData:   func(ch rtclink.Channel, cmd []byte) { drive(cmd) },
//	})
//	defer s.Close()
//	if err := s.WaitConnected(ctx); err != nil { ... }
//	<-s.Done() // ends by itself only when signaling ends for good
//	log.Println(s.Err())
//
// A viewer that shows it (vp8 here is playback/vp8):
//
//	s, _ := rtclink.New(rtclink.Config{
//		Signaler:     sig,
//		ReceiveVideo: &rtclink.VideoReceiver{NewDecoder: vp8.Factory(vp8.DecoderConfig{}), Sink: window},
//	})
//
// A robot with several cameras sends each on its own track, named so a
// viewer can tell them apart (the viewer page shows the names on its
// tiles; a Go viewer picks one with VideoReceiver.Track):
//
//	front.Name, wrist.Name = "front", "wrist"
//	rtclink.Config{Video: front, MoreVideo: []*rtclink.VideoSender{wrist}, ...}
//
// Congestion control's estimate is shared among them in proportion to
// their MaxBitrate, and Stats().VideoOut.Tracks has each one's figures.
//
// The offerer offers to the first peer of its room, and again to a peer
// that joins later, so the order in which robot and viewer start does
// not matter. Through a server that does not announce peers (the
// original deployment's Node.js server, known from
// [signal.JoinAcknowledger]) it offers to the room at once.
//
// A PeerSession calls one viewer at a time: a second waits until the
// first call ends. A [Hub] serves several at once over the robot's one
// Signaler, with a PeerSession per viewer made from the Config its
// NewSession returns, up to MaxViewers; a viewer beyond that is told why
// (signal.CodeViewersFull) and called when a place frees up.
//
// Data channels are named by their label ([Channel]): a session accepts
// any channel its peer opens, such as a browser page's own, and sends on
// any open one by label. [Reliable] and [Unreliable] are the two a
// session opens with Config.DataChannels.
//
// A session ends by itself only when its Signaler stops for good (a
// refused token, a full room, a server unreachable for longer than the
// Signaler retries): Done is closed and Err wraps [ErrSignalingEnded]
// with the Signaler's error, so errors.Is(s.Err(), signal.ErrRoomFull)
// tells what to fix. While alone in its room it logs so every few
// seconds, and Stats().Room counts the other peers, so a misspelt room
// name shows at once.
package rtclink
