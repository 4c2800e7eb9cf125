package netlab

import "errors"

var (
	// ErrConfig reports a Config or an argument that cannot work.
	ErrConfig = errors.New("netlab: invalid config")
	// ErrUnavailable reports a machine where namespaces cannot be made:
	// not root, or no ip command, or the kernel refused.
	ErrUnavailable = errors.New("netlab: network namespaces unavailable")
	// ErrCommand reports a command that failed while building or changing
	// the lab.
	ErrCommand = errors.New("netlab: command failed")
	// ErrClosed reports a call on a closed Lab.
	ErrClosed = errors.New("netlab: lab closed")
)
