package v4l2

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// openErr explains a failed open of path.
func openErr(path string, err error) error {
	switch {
	case errors.Is(err, ErrNotSupported):
		return err
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.ENODEV):
		return fmt.Errorf("%w: %s (%w)", ErrNoDevice, path, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("v4l2: %s: %w (the user needs to be in the video group)", path, errors.Join(fs.ErrPermission, err))
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("%w: %s is in use by another program (%w)", ErrBusy, path, err)
	}
	return fmt.Errorf("v4l2: open %s: %w", path, err)
}

// setupErr explains a failed request while opening or listing a node;
// what names the step ("set the format").
func setupErr(path, what string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOTTY):
		return fmt.Errorf("%w: %s is not a V4L2 device (%s: %w)", ErrNotCapture, path, what, err)
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("%w: %s is in use by another program (%s: %w)", ErrBusy, path, what, err)
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
		return fmt.Errorf("%w: %s went away (%s: %w)", ErrUnplugged, path, what, err)
	}
	return fmt.Errorf("v4l2: %s: %s: %w", path, what, err)
}

// streamErr explains a failed dequeue while streaming.
func streamErr(path string, err error) error {
	switch {
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ENXIO):
		return fmt.Errorf("%w: %s is gone (%w)", ErrUnplugged, path, err)
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("%w: %s: the driver stopped the stream: the camera was unplugged or reset (%w)", ErrUnplugged, path, err)
	}
	return fmt.Errorf("v4l2: %s: dequeue a frame: %w", path, err)
}
