package capture

import "errors"

// ErrBadFrame reports a frame whose buffer does not match its declared
// format and size.
var ErrBadFrame = errors.New("capture: malformed frame")
