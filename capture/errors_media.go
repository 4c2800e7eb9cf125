package capture

import "errors"

// ErrUnsupportedFormat reports a pixel format, sample rate or channel count
// that a converter, resampler or re-framer cannot handle.
var ErrUnsupportedFormat = errors.New("capture: unsupported format")
