package signalbench

import "errors"

var (
	// ErrProcFormat means a /proc file did not have the expected shape.
	ErrProcFormat = errors.New("signalbench: unexpected /proc format")
	// ErrServerStart means the server under test did not come up.
	ErrServerStart = errors.New("signalbench: server did not start")
	// ErrConfig means the configuration cannot be run.
	ErrConfig = errors.New("signalbench: bad configuration")
)
