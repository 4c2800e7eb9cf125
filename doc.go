// Package avlink is a library for two-way audio and video between robots
// and people over WebRTC, across NATs on the public internet.
//
// To see it work, run the whole system in one process and open the URL
// it prints (http://localhost:8080/?room=demo) in a browser:
//
//	bash ./examples/demo/run.sh
//
// [github.com/avlink/avlink/examples/demo] starts a signaling server with
// the viewer page, a STUN/TURN server and a robot that sends its camera
// (or a test pattern) and microphone (or a tone), plays what the page
// says on its speaker and logs the page's drive commands. Its -check flag
// checks all of that in headless Chromium and exits non-zero when
// something is missing.
//
// This root package holds documentation and an example only. The work is
// done by a few small packages that each do one job and fit together in
// one direction:
//
//	capture ──► rtclink.Session ──► network ──► rtclink.Session ──► playback
//	                   ▲                               ▲
//	                   └──── signal.Signaler ──────────┘
//	                 signal server (rooms)      turnsrv (STUN/TURN relay)
//
// The packages, and the subpackages to start from:
//
//   - [github.com/avlink/avlink/signal]: the signaling messages (JSON, as
//     the original deployment's browser page and Python aiortc clients
//     speak them) and the Signaler interface a session talks through.
//     [github.com/avlink/avlink/signal/wsclient] (a WebSocket client that
//     joins a room and reconnects by itself) and
//     [github.com/avlink/avlink/signal/wsserver] (a room-aware server you
//     mount as an http.Handler) carry them, and
//     [github.com/avlink/avlink/signal/viewer] is the browser viewer page
//     served beside wsserver: watch, listen, talk back and drive.
//   - [github.com/avlink/avlink/turnsrv]: an embedded STUN/TURN server
//     configured like coturn, with coturn-compatible REST credentials.
//   - [github.com/avlink/avlink/rtclink]: a Session is a call; the default,
//     PeerSession, is one peer connection driven over a Signaler:
//     negotiation, trickle ICE, ICE restart, congestion control, data
//     channels and stats; a Hub serves several viewers at once.
//     [github.com/avlink/avlink/rtclink/teleop] is the robot's end of the
//     viewer page's drive and E-stop channels: commands too old to
//     execute are refused, a deadman stops the robot, and with several
//     viewers one drives at a time.
//   - [github.com/avlink/avlink/capture]: where outgoing media comes from:
//     VideoSource, AudioSource, frame types, converters and encoders.
//     [github.com/avlink/avlink/capture/broadcast] encodes once for
//     several viewers.
//   - [github.com/avlink/avlink/playback]: where incoming media goes: Sink
//     interfaces, decoders and file sinks.
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
// The examples directory reassembles the system from these parts: the
// demo above, a signaling server, a TURN server, a sender in the robot's
// place (test pattern and tone, or media files), a RealSense robot, a
// microphone sender, an audio receiver and a receiver that records or
// reports what it gets.
package avlink
