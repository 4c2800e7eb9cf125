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
//     trip and how long ago the newest acknowledged command was sent
//     (package rtclink/teleop is the robot's end, and its documentation
//     has the protocol);
//   - keeps the robot's clock in step: every command carries the page's
//     clock (performance.timeOrigin + performance.now(), in ms since the
//     Unix epoch), every "sync" of the robot is answered at once, and the
//     page shows the robot's estimate of the offset between the clocks,
//     its uncertainty and the round trip; with it, the capture-to-screen
//     latency is read on the robot's clock, right even when the two
//     clocks disagree;
//   - shows why the robot did not obey: a "refused" command (stale, out
//     of order, E-stop latched, clock not synced) and a "stopped" (the
//     robot's deadman, a lost link or channel, an E-stop) are shown under
//     the picture and counted;
//   - has an E-stop: a big red button and the Escape key send an estop on
//     the robot's reliable "estop" channel; while the robot reports it
//     latched, a red banner says so, driving is off, and its Release
//     button asks the robot to unlatch (the robot may refuse: the banner
//     stays). A robot with no estop channel (an older rtclink robot, the
//     original deployment's Python robot) gets a button that says the
//     E-stop is unavailable; Escape then only stops driving;
//   - does not let anyone drive blind: driving turns itself off, with a
//     banner saying why, when no new picture has come for a while (query
//     stale, default 500 ms) or when the pictures are too late on screen
//     (query maxlatency, default 1000 ms, read from the stamp when there
//     is one); a held key then gets its stop and further presses are
//     ignored until the video is fresh again, when driving comes back by
//     itself;
//   - shows every camera of a robot that sends several (rtclink's
//     Config.MoreVideo and PeerSession.AddVideo: a video track each,
//     named by its track id in the offer's a=msid line, the
//     VideoSender.Name): a tile each under the picture, with its name,
//     and one of them large, the first until a click or tap on another
//     tile. The large camera is the one the driver looks at, so the
//     size, frame rate, stamps and latency shown are its own, and its
//     pictures alone are the ones the lockout watches: a frozen camera
//     in a tile leaves driving on, the same camera shown large turns it
//     off. A camera added mid-call gets a tile, one the robot stops
//     sending loses it; the audio stays one. With one camera (the usual
//     robot, the original deployment's Python robot) there are no tiles
//     and the page looks as it always has;
//   - draws small graphs of the last 60 s, one value a second:
//     capture-to-screen latency, command round trip, bitrate and frame
//     rate;
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
// gain control), stale=MS and maxlatency=MS (the lockout's limits in
// milliseconds; 0 turns a check off). window.avlinkViewer.state() returns
// what it shows, for scripts and tests: the teleop figures (sent, echoes,
// rttMs, ackAgeMs, syncs, refused, stopped and the last of each), clock
// (the robot's estimate, null until it sends one), estop (available,
// latched, pending), lockout (locked, reason "stale" or "latency", text,
// since), drive (why driving is off, "" when it is on), graphs (the
// last 60 values of each graph), cameras (each camera's name, whether it
// is the large one, the pictures of it shown, its frames decoded, size
// and frame rate) and camera (the large one's name).
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
