// Package livekit publishes a robot's tracks into a LiveKit room instead
// of sending them to one peer: the SFU forwards one uplink to every
// viewer, which a cellular robot cannot do itself.
//
// [New] returns a [Session] that implements [rtclink.Session], so a
// program switches between peer-to-peer and LiveKit by configuration
// only. It takes the same [rtclink.VideoSender] and [rtclink.AudioSender]
// (the same sources and encoders), mints its own access token from an API
// key and secret, sends data as LiveKit data packets whose topic is the
// channel label, and plays the room's audio (talk-back) through an
// [rtclink.AudioReceiver].
//
// The video encoder runs at the sender's StartBitrate: LiveKit's SFU
// adapts what each viewer receives. The SDK logs pion's state changes
// through a logger of its own, which [SetSDKLogger] redirects.
//
// Command livekit-robot sends a camera (a V4L2 node) or the stamped test
// pattern, and a tone, into a room. Command livekit-bench compares, on
// loopback, capture-to-decoded latency through LiveKit (one node, or two
// nodes sharing a Redis) with peer-to-peer, and measures the robot's CPU
// with one and with several subscribers: the SFU does the fan-out, so it
// stays flat.
//
// The tests run a real livekit-server, one node or two sharing a
// redis-server they start; a viewer built on LiveKit's SDK alone joins
// through the other node than the robot and decodes what it sends.
//
// The package is a module of its own, github.com/avlink/avlink/livekit,
// so that LiveKit's SDK and its dependencies never enter what a
// peer-to-peer program links.
package livekit
