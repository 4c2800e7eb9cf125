package v4l2

import "errors"

var (
	// ErrConfig reports a Config that cannot work: a negative size, rate
	// or buffer count, or a format this package cannot convert.
	ErrConfig = errors.New("v4l2: invalid configuration")
	// ErrNotSupported reports a system without V4L2: every one but Linux.
	ErrNotSupported = errors.New("v4l2: V4L2 is Linux only")
	// ErrNoDevice reports that there is no such camera: the node does not
	// exist, or no node matches the name asked for.
	ErrNoDevice = errors.New("v4l2: no such camera")
	// ErrNotCapture reports a node that is not a camera this package can
	// stream from: a metadata node (a RealSense has one beside each of its
	// streams), an output or multi-planar node, or a file that is not a
	// V4L2 device at all.
	ErrNotCapture = errors.New("v4l2: not a video capture node")
	// ErrBusy reports a camera that another program is streaming from,
	// or (ENOSPC from the driver) a USB bus with too little bandwidth left
	// for the chosen size, rate and format.
	ErrBusy = errors.New("v4l2: camera busy")
	// ErrFormat reports that the camera offers no mode that matches the
	// Config; the error's text lists what it does offer.
	ErrFormat = errors.New("v4l2: format not offered")
	// ErrUnplugged reports a camera that went away while streaming:
	// unplugged, reset, or stopped by its driver with an error.
	ErrUnplugged = errors.New("v4l2: camera unplugged")
	// ErrStalled reports a camera that delivered no frame within
	// Config.FrameTimeout.
	ErrStalled = errors.New("v4l2: camera stalled")
)
