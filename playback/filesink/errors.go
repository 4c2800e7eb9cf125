package filesink

import (
	"errors"

	"github.com/avlink/avlink/internal/mediafile"
)

var (
	// ErrUnsupported reports media a sink cannot write, such as Opus
	// samples given to an IVF sink.
	ErrUnsupported = mediafile.ErrUnsupported
	// ErrFormatChange reports a frame whose size, rate or channel count
	// differs from the first one's; these formats hold one format per
	// file.
	ErrFormatChange = errors.New("filesink: media format changed mid-stream")
	// ErrClosed reports a write after Close.
	ErrClosed = errors.New("filesink: sink closed")
)
