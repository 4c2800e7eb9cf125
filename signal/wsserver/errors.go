package wsserver

import "errors"

// ErrConfig reports a [Config] that cannot work; [New] wraps it with the
// field at fault.
var ErrConfig = errors.New("signal: invalid server config")

// errInterrupted ends a connection's wait for input when the server
// closes.
var errInterrupted = errors.New("signal: server closing")
