package stamp

import "errors"

var (
	// ErrFrameTooSmall reports a frame narrower than 40 or lower than 15
	// pixels, which cannot hold a stamp.
	ErrFrameTooSmall = errors.New("stamp: frame too small for a stamp")
	// ErrNotI420 reports a frame in another pixel format; convert it with
	// capture.ToI420 first.
	ErrNotI420 = errors.New("stamp: frame is not I420")
	// ErrLowContrast reports a frame whose stamp cells do not differ
	// enough to be read: most likely a frame without a stamp.
	ErrLowContrast = errors.New("stamp: no stamp (cells lack contrast)")
	// ErrChecksum reports a stamp whose CRC does not match its contents.
	ErrChecksum = errors.New("stamp: checksum mismatch")
)
