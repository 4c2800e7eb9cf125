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

// Errors are a device package's own error values, which its callers test
// for instead of this package's.
type Errors struct {
	// Prefix starts every other error's text: "mic", "speaker".
	Prefix string
	// NoDevice stands for [ErrNoDevice], followed by what is missing.
	NoDevice error
	// Config stands for [ErrFormat], which it wraps as well.
	Config error
}

// Wrap turns an error of this package into e's: a *[NoDeviceError]
// becomes NoDevice with the error's detail, [ErrFormat] is wrapped in
// Config, and any other error is prefixed with Prefix.
func (e Errors) Wrap(err error) error {
	var nd *NoDeviceError
	switch {
	case errors.As(err, &nd):
		return fmt.Errorf("%w: %s", e.NoDevice, nd.Detail)
	case errors.Is(err, ErrFormat):
		return fmt.Errorf("%w: %w", e.Config, err)
	}
	return fmt.Errorf("%s: %w", e.Prefix, err)
}
