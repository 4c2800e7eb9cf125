package depth

import "errors"

var (
	// ErrConfig reports a Config that cannot work: a Near that is not
	// nearer than Far, a negative or non-finite distance or unit, or a
	// missing source.
	ErrConfig = errors.New("depth: invalid configuration")
	// ErrFormat reports a frame that is not depth: a Colorizer's source
	// gave a colour frame, or a frame whose buffer is too short for its
	// size.
	ErrFormat = errors.New("depth: not a Z16 depth frame")
)
