package broadcast

import "errors"

var (
	// ErrConfig reports an invalid VideoConfig or AudioConfig.
	ErrConfig = errors.New("broadcast: invalid config")
	// ErrClosed reports a read from a reader after its own Close, or a
	// NewReader on a Video or Audio that has been closed.
	ErrClosed = errors.New("broadcast: closed")
)
