package vpx

import "errors"

var (
	// ErrClosed reports a call on an encoder or decoder after Close.
	ErrClosed = errors.New("vpx: codec closed")
	// ErrInit reports that libvpx refused to create or configure a codec.
	ErrInit = errors.New("vpx: initialisation failed")
	// ErrEncode reports that libvpx failed to encode a frame.
	ErrEncode = errors.New("vpx: encode failed")
	// ErrDecode reports that libvpx could not decode its input, which is
	// usually corrupt or truncated.
	ErrDecode = errors.New("vpx: decode failed")
	// ErrCorrupt reports a frame that decoded but that libvpx marked as
	// corrupt, typically because a reference frame it depends on was lost
	// or damaged.
	ErrCorrupt = errors.New("vpx: decoded frame is corrupt")
	// ErrBadImage reports planes too small for the declared size.
	ErrBadImage = errors.New("vpx: image planes too small")
)
