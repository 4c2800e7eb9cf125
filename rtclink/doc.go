// Package rtclink runs one WebRTC peer connection between a robot and a
// person (or another robot), driven over a [signal.Signaler].
//
// A [Session] owns everything between the sources and the sinks:
// negotiation in either role, trickle ICE (and whole-SDP peers that never
// trickle), ICE restart, NACK, RTCP reports, transport-wide congestion
// control with a GCC estimate that steers the video encoder, data channels
// and stats. Media comes from package capture and goes to package
// playback; codecs are passed in as interfaces, so this package builds
// without cgo.
//
// A robot that sends its camera:
//
//	sig, _ := signal.Dial(ctx, "ws://server:3000", "realsense", nil)
//	enc, _ := vp8.NewEncoder(vp8.EncoderConfig{})
//	s, _ := rtclink.New(rtclink.Config{
//		Signaler: sig,
//		Role:     rtclink.Offerer,
//		Video:    &rtclink.VideoSender{Source: camera, Encoder: enc},
//	})
//	defer s.Close()
//
// A viewer that shows it:
//
//	s, _ := rtclink.New(rtclink.Config{
//		Signaler:     sig,
//		ReceiveVideo: &rtclink.VideoReceiver{NewDecoder: vp8dec, Sink: window},
//	})
//
// The offerer offers to the first peer of its room, and again to a peer
// that joins later, so the order in which robot and viewer start does
// not matter.
package rtclink
