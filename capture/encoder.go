package capture

// VideoEncoder turns raw frames into encoded samples. Implementations are
// used from one goroutine at a time.
type VideoEncoder interface {
	// Codec describes the output, for SDP.
	Codec() Codec
	// Encode encodes one frame; keyframe asks for a frame that decodes on
	// its own (after a PLI, or when a peer connects). It may return a nil
	// sample when the encoder drops the frame to meet its bitrate.
	Encode(f *VideoFrame, keyframe bool) (*Sample, error)
	// SetBitrate changes the target bitrate in bits per second while
	// running; implementations clamp it to the range they support.
	SetBitrate(bps int) error
	Close() error
}

// AudioEncoder turns PCM into encoded packets. The frames it is given have
// exactly FrameSize samples per channel at Rate.
type AudioEncoder interface {
	Codec() Codec
	// Rate and Channels are the PCM format Encode expects.
	Rate() int
	Channels() int
	// FrameSize is the number of samples per channel Encode expects.
	FrameSize() int
	Encode(f *AudioFrame) (*Sample, error)
	Close() error
}

// PreparedEncoder is implemented by a VideoEncoder that sets itself up for
// a frame size before its first frame (as vp8.Encoder does when its
// config gives the size). A sender that would otherwise encode a
// throwaway first frame, to keep an encoder's slow start off the first
// picture a viewer waits for, skips that when Prepared reports true for
// the frame's size. Prepared must not block.
type PreparedEncoder interface {
	Prepared(width, height int) bool
}
