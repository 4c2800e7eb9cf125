package mediabench

import "errors"

var (
	// ErrFrameMismatch reports two frames that cannot be compared: other
	// sizes or formats.
	ErrFrameMismatch = errors.New("mediabench: frames differ in size or format")
	// ErrTimeout reports a peer that did not reach a stage of the run in
	// time.
	ErrTimeout = errors.New("mediabench: timed out")
	// ErrConfig reports a PeerConfig that cannot run.
	ErrConfig = errors.New("mediabench: invalid config")
	// ErrPeer reports a peer process that failed or gave no result.
	ErrPeer = errors.New("mediabench: peer failed")
)
