// Package turntest runs TURN servers for tests: a turnsrv.Server or a real
// coturn turnserver (the original deployment's TURN server) on loopback,
// and a check that two WebRTC peers in relay-only mode connect through
// one. The turnsrv tests and session-level tests elsewhere in the module
// (rtclink) use it; it imports package testing, which is why it is
// internal.
package turntest
