package turnsrv

import "errors"

// Sentinel errors. They are wrapped with %w, so test for them with errors.Is.
var (
	// ErrBadConfig reports a Config that cannot be served, such as a port
	// range with MinPort above MaxPort or a certificate without a key.
	ErrBadConfig = errors.New("turnsrv: invalid configuration")

	// ErrConfSyntax reports a line of a coturn-style configuration file that
	// names a known key with a value it cannot use.
	ErrConfSyntax = errors.New("turnsrv: configuration file syntax")

	// ErrClosed is returned by Start on a Server that was already closed.
	ErrClosed = errors.New("turnsrv: server closed")

	// ErrStarted is returned by a second call to Start.
	ErrStarted = errors.New("turnsrv: server already started")

	// ErrNoRelayAddress reports that no relay address of the requested
	// family is configured, or that the relay port range is exhausted.
	ErrNoRelayAddress = errors.New("turnsrv: no relay address available")

	// ErrBadCredential reports a REST username that is not "expiry:user".
	ErrBadCredential = errors.New("turnsrv: malformed REST credential")
)
