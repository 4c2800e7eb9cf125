package browserbench

import "errors"

var (
	// ErrConfig reports a Config or a path name that cannot run.
	ErrConfig = errors.New("browserbench: invalid config")
	// ErrMissing reports a tool a path needs that is not installed:
	// Chromium, or Python with aiortc.
	ErrMissing = errors.New("browserbench: missing")
	// ErrTimeout reports a stage of a run that did not happen in time.
	ErrTimeout = errors.New("browserbench: timed out")
	// ErrNoFrames reports a run whose page showed no picture, or none
	// with a readable stamp.
	ErrNoFrames = errors.New("browserbench: no frames")
)
