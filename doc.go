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
//	  - [github.com/avlink/avlink/signal]: the signaling wire protocol (JSON
//	    over WebSocket, compatible with existing browser pages and aiortc
//	    clients), the [signal.Signaler] interface, a reconnecting client and
//	    a room-aware server you mount as an http.Handler.
//	  - [github.com/avlink/avlink/turnsrv]: an embedded STUN/TURN server
//	    configured like coturn, with coturn-compatible REST credentials.
//	  - [github.com/avlink/avlink/rtclink]: a Session is one peer connection
//	    driven over a Signaler: negotiation, trickle ICE, ICE restart,
//	    congestion control, data channels and stats.
//	  - [github.com/avlink/avlink/capture]: where outgoing media comes from:
//	    VideoSource, AudioSource, frame types, converters and encoders.
//	  - [github.com/avlink/avlink/playback]: where incoming media goes: Sink
//	    interfaces, decoders, speaker and file sinks.
//
// The signal, turnsrv and rtclink packages build without cgo, so a
// signaling or TURN server needs no C libraries; codecs and devices live in
// their own subpackages.
//
// The examples directory reassembles a complete system from these parts:
// a signaling server, a TURN server, a robot sending camera video and
// microphone audio, a PC sending its microphone, and a receiver playing
// audio on a speaker.
package avlink
