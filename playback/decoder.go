package playback

import "github.com/avlink/avlink/capture"

// VideoDecoder turns encoded frames into I420 pictures. It is used from one
// goroutine at a time.
type VideoDecoder interface {
	// Decode decodes one complete frame. It may return a nil frame when
	// the decoder has nothing to show yet (no keyframe seen).
	Decode(data []byte) (*capture.VideoFrame, error)
	Close() error
}

// AudioDecoder turns encoded packets into PCM.
type AudioDecoder interface {
	// Decode decodes one packet. A nil data asks the decoder to conceal
	// one lost packet.
	Decode(data []byte) (*capture.AudioFrame, error)
	Close() error
}

// KeyframeRequester is implemented by a VideoDecoder that can tell when it
// cannot go on without a keyframe (after a frame it could not decode). A
// session asks its peer for a keyframe when NeedKeyframe is true, so a
// decoder wrapper should implement it by asking the decoder it wraps.
type KeyframeRequester interface {
	NeedKeyframe() bool
}

// SizePreparer is implemented by a VideoDecoder that can set itself up for
// a frame size before its first frame: a session whose peer announces the
// size of its video prepares the decoder while the call connects, so the
// first picture does not wait for that set-up (several milliseconds for
// libvpx at 640x480). Prepare leaves the decoder waiting for a keyframe as
// before; a stream of another size still decodes.
type SizePreparer interface {
	Prepare(width, height int) error
}
