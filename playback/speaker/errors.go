package speaker

import "errors"

var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("speaker: invalid config")
	// ErrNoDevice reports that there is no output device, or none with
	// the index or name Config.Device asks for. A program can report it
	// once and carry on without sound.
	ErrNoDevice = errors.New("speaker: no output device")
	// ErrClosed reports a WriteAudio after Close.
	ErrClosed = errors.New("speaker: closed")
)
