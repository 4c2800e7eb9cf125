package audiodev

import (
	"errors"
	"fmt"
)

var (
	// ErrNoDevice reports that no device matches: PortAudio found no device
	// in the direction asked for, or none with the index or name asked for.
	// The errors that wrap it are *NoDeviceError.
	ErrNoDevice = errors.New("audiodev: no such audio device")
	// ErrFormat reports a channel count the device does not have.
	ErrFormat = errors.New("audiodev: format not available")
)

// NoDeviceError says which device was not found and what there is.
type NoDeviceError struct {
	Dir Direction
	// Detail says what is missing, for example `none is named like
	// "usb" (there are 0 "pulse", 1 "default")`.
	Detail string
}

// Error returns "audiodev: no input device: " and the detail.
func (e *NoDeviceError) Error() string {
	return fmt.Sprintf("audiodev: no %s device: %s", e.Dir, e.Detail)
}

// Is reports whether target is ErrNoDevice.
func (e *NoDeviceError) Is(target error) bool { return target == ErrNoDevice }
