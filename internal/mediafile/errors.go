package mediafile

import (
	"errors"
	"io"
)

var (
	// ErrMalformed reports a file whose structure is wrong: a bad
	// signature, an impossible size, a missing chunk, a bad checksum.
	ErrMalformed = errors.New("malformed media file")
	// ErrTruncated reports a file that ends inside a header or frame.
	ErrTruncated = errors.New("truncated media file")
	// ErrUnsupported reports a well-formed file in a variant this package
	// does not handle, such as 4:2:2 Y4M or 24-bit WAV.
	ErrUnsupported = errors.New("unsupported media format")
)

// Limits on what a parser accepts before allocating.
const (
	MaxIVFFrame  = 16 << 20
	MaxDimension = 16384
	maxY4MLine   = 4096
)

// short turns the errors io.ReadFull returns for a short read into
// ErrTruncated, keeping other errors (including a clean io.EOF when
// cleanEOF is set) as they are.
func short(err error, cleanEOF bool) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || (!cleanEOF && errors.Is(err, io.EOF)) {
		return ErrTruncated
	}
	return err
}
