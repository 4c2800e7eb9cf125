// Package viewer is the viewer page: a browser page, served by the
// signaling server, to watch and listen to a robot, talk back to it and
// drive it, from any browser, with nothing to install or build.
//
// Mount a [Viewer] on "/" beside the signaling server with
// [Viewer.WithSignaling]: a plain GET on "/" gets the page, a WebSocket
// upgrade on "/" goes to the signaling server as before, so the original
// deployment's Python aiortc clients and browser page keep working.
// Open http://host:3000/?room=realsense.
//
// The page, embedded in this package (no build step, no framework, no
// request to any other host):
//
//   - joins the room named in its URL, answers the robot's offer (an
//     rtclink robot's, or the original deployment's Python aiortc
//     robot's, whose clashing RTP header-extension ids it repairs),
//     trickles its candidates, and plays the robot's video and audio from
//     one MediaStream;
//   - talks back: its Talk button adds the microphone and offers it to
//     the robot, which plays it (the browser allows the microphone on
//     localhost and over HTTPS only);
//   - drives: arrow keys, WASD and an on-screen pad send small JSON
//     commands on the robot's unreliable "teleop" data channel, repeated
//     while held and followed by a stop when released or when the page
//     loses focus; the robot echoes each one and the page shows the round
//     trip (package rtclink/teleop is the robot's end);
//   - shows the connection state, codec, size, frame rate, bitrate,
//     round-trip time, whether the path is direct or relayed (the
//     selected candidate pair's types), and, when the robot sends the
//     stamped test pattern, the capture-to-screen latency read from the
//     stamp (capture/stamp);
//   - recovers by itself, without a reload, when the robot restarts, the
//     signaling server restarts (it rejoins with its id) or the network
//     drops for a while;
//   - says why in words when it cannot connect: the TURN server refused
//     its credentials, the signaling server is unreachable, the
//     microphone needs HTTPS.
//
// The page's query: room (default realsense), token (the signaling
// server's token, when it has one), relay=1 (relayed candidates only),
// mic=raw (the microphone without echo cancellation, noise suppression or
// gain control). window.avlinkViewer.state() returns what it shows, for
// scripts and tests.
//
// ICE servers come from the server, configured in one place: "/ice-servers"
// answers the JSON an RTCPeerConnection takes, {"iceServers":[...]}. With
// Config.TURNSecret, the shared secret of a TURN server run in coturn's
// REST API scheme (coturn's static-auth-secret, or turnsrv), every answer
// carries a TURN credential minted for it, so no password is in the page;
// the robot programs fetch the same (-ice-from).
//
// This package may be imported by servers only: signal, rtclink and
// wsserver do not import it.
package viewer
