package turnsrv

import "errors"

// Sentinel errors. They are wrapped with %w, so test for them with errors.Is.
var (
	// ErrConfig reports a Config that cannot be served, such as a port
	// range with MinPort above MaxPort, a certificate without a key or a
	// negative quota. New returns it wrapped.
	ErrConfig = errors.New("turnsrv: invalid configuration")

	// ErrConfSyntax reports a line of a coturn-style configuration file that
	// names a known key with a value it cannot use.
	ErrConfSyntax = errors.New("turnsrv: configuration file syntax")

	// ErrNoRelayAddress reports that no relay address of the requested
	// family is configured, or that the relay port range is exhausted. New
	// returns it wrapped along with ErrConfig when there is no relay
	// address at all; a refused allocation logs it at debug level.
	ErrNoRelayAddress = errors.New("turnsrv: no relay address available")
)

// errBadCredential reports a REST username that is not "expiry:user"; the
// authenticator then tries it as a long-term user name.
var errBadCredential = errors.New("turnsrv: malformed REST credential")
