package mic

import "errors"

var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("mic: invalid config")
	// ErrNoDevice reports that there is no input device, or none with the
	// index or name Config.Device asks for. A program can report it once
	// and carry on without a microphone.
	ErrNoDevice = errors.New("mic: no input device")
)
