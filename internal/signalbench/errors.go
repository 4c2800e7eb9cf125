package signalbench

import "errors"

var (
	// ErrServerStart means the server under test did not come up.
	ErrServerStart = errors.New("signalbench: server did not start")
	// ErrConfig means the configuration cannot be run.
	ErrConfig = errors.New("signalbench: bad configuration")
)
