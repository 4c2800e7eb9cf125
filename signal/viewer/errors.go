package viewer

import "errors"

// ErrConfig reports a [Config] that cannot work; [New] wraps it with the
// field at fault.
var ErrConfig = errors.New("viewer: invalid config")
