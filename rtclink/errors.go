package rtclink

import "errors"

var (
	// ErrClosed is returned by a Session after Close.
	ErrClosed = errors.New("rtclink: session closed")
	// ErrConfig reports a Config that cannot work.
	ErrConfig = errors.New("rtclink: invalid config")
	// ErrNoChannel reports SendData before the data channel is open.
	ErrNoChannel = errors.New("rtclink: data channel not open")
)
