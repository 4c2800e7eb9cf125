// Package interop tests avlink against the pieces of the deployment it
// was modelled on (the original deployment: a Node.js WebSocket signaling
// server, coturn, a browser viewer page, and Python aiortc programs on the
// robot and on a PC): its aiortc programs in the receiver and sender
// roles, its browser viewer page in headless Chromium, and its Node.js
// signaling server. Each test runs a real signaling server on 127.0.0.1,
// real codecs and a real peer, and skips when the peer's tool is not
// installed.
//
// The peers live in testdata: receiver.py and sender.py re-create the
// original deployment's Python aiortc programs (run with the system
// Python that has aiortc, /usr/bin/python3 on Debian, or $AVLINK_PYTHON),
// and viewer.html its browser viewer page. wsclient.py is a small
// WebSocket client for those scripts, used when the websockets package is
// not installed. The Node.js server is re-created in
// internal/signalbench/node and needs node and npm.
//
// The mDNS test runs Chromium and the Session in a private user and network
// namespace (unshare -rn, with a veth pair), so the page's multicast stays
// off the host's networks; it skips where namespaces cannot be made.
//
// Set AVLINK_TEST_LOG=1 to see the sessions' logs and the peers' output,
// AVLINK_PYTHON and AVLINK_CHROMIUM to use other binaries.
package interop
