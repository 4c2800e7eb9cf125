// Package turntest runs TURN servers for tests: a turnsrv.Server or a real
// coturn turnserver on loopback, and a check that two WebRTC peers in
// relay-only mode connect through one. Session-level tests elsewhere in
// the module reuse it.
package turntest
