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
// The package is a module of its own, github.com/avlink/avlink/livekit,
// so that LiveKit's SDK and its dependencies never enter what a
// peer-to-peer program links.
package livekit
