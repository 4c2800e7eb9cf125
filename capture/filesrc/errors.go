package filesrc

import (
	"errors"

	"github.com/avlink/avlink/internal/mediafile"
)

// Errors a file source returns wrapped, for errors.Is. The sinks in
// playback/filesink use the same values for ErrMalformed, ErrTruncated
// and ErrUnsupported.
var (
	// ErrConfig reports a Config that cannot be used, such as a negative
	// BlockSize.
	ErrConfig = errors.New("filesrc: invalid config")
	// ErrMalformed reports a file whose structure is wrong: a bad
	// signature, an impossible size, a bad checksum.
	ErrMalformed = mediafile.ErrMalformed
	// ErrTruncated reports a file that ends inside a header or frame.
	ErrTruncated = mediafile.ErrTruncated
	// ErrUnsupported reports a valid file in a variant not handled, such
	// as 4:2:2 Y4M or 24-bit WAV.
	ErrUnsupported = mediafile.ErrUnsupported
)
