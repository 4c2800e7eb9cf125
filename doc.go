// Package avlink is a library for two-way audio and video between robots
// and people over WebRTC, across NATs on the public internet.
//
// This root package holds documentation only. The work is done by a few
// small packages that each do one job and fit together in one direction:
//
//		capture ──► rtclink.Session ──► network ──► rtclink.Session ──► playback
//		                   ▲                               ▲
//		                   └──── signal.Signaler ──────────┘
//		                 signal server (rooms)      turnsrv (STUN/TURN relay)
//
//	  - [github.com/avlink/avlink/signal]: the signaling messages (JSON, as
//	    the original deployment's browser page and Python aiortc clients
//	    speak them) and the [signal.Signaler] interface; its subpackages
//	    wsclient (a reconnecting WebSocket client) and wsserver (a
//	    room-aware server you mount as an http.Handler) carry them.
//	  - [github.com/avlink/avlink/turnsrv]: an embedded STUN/TURN server
//	    configured like coturn, with coturn-compatible REST credentials.
//	  - [github.com/avlink/avlink/rtclink]: a Session is a call; the default,
//	    PeerSession, is one peer connection driven over a Signaler:
//	    negotiation, trickle ICE, ICE restart, congestion control, data
//	    channels and stats.
//	  - [github.com/avlink/avlink/capture]: where outgoing media comes from:
//	    VideoSource, AudioSource, frame types, converters and encoders.
//	  - [github.com/avlink/avlink/playback]: where incoming media goes: Sink
//	    interfaces, decoders and file sinks.
//
// The signal, turnsrv and rtclink packages build without cgo, so a
// signaling or TURN server needs no C libraries; codecs and devices live in
// their own subpackages.
//
// # Conventions
//
// Every package follows the same few rules, so one learned is all learned:
//
//   - A Config struct (XxxConfig where a package has several) configures
//     each thing; its zero value works, and every field documents what its
//     zero value means. No field gives a negative number a special
//     meaning: a feature is switched off by a boolean named for it
//     (DisablePings, NoRateLimit).
//   - New (or NewXxx, Dial) checks the Config, returns an error that wraps
//     the package's ErrConfig when it is wrong, and returns something that
//     is already running. A context passed to it bounds only that call.
//   - Close stops a thing at once, releases what it holds, waits for the
//     goroutines it started and may be called more than once. A server
//     that can drain gracefully has Shutdown(ctx) as well, which waits up
//     to ctx and then closes, as net/http.Server does.
//   - Logging goes to a *slog.Logger from the Config (nil means
//     slog.Default()); network-facing configs take a transport.Net so tests
//     run on a virtual network.
//
// The examples directory reassembles the system from these parts: a
// signaling server, a TURN server, a sender in the robot's place (test
// pattern and tone, or media files) and a receiver that records or reports
// what it gets.
package avlink
