package broadcast

// ReaderStats counts what one reader was given and what it lost.
type ReaderStats struct {
	// Delivered is the number of samples ReadSample returned.
	Delivered uint64
	// Queued is the number of samples waiting to be read.
	Queued int
	// Dropped is the number of samples lost because the reader fell
	// behind: for video, the whole queue and the frame that did not fit
	// each time it overflowed; for audio, the oldest packet each time.
	Dropped uint64
	// Skipped is the number of video frames passed over while the
	// reader waited for a keyframe, after joining or after falling
	// behind. Always 0 for audio.
	Skipped uint64
	// Resyncs is the number of times the video reader's queue
	// overflowed and it started again at a keyframe. Always 0 for audio.
	Resyncs uint64
}

// VideoStats describes a [Video]: the work done once for all readers.
type VideoStats struct {
	// Readers is the number of attached readers.
	Readers int
	// Captured is the number of frames read from the source.
	Captured uint64
	// Stale is the number of captured frames replaced by a newer one
	// before the encoder was free to take them.
	Stale uint64
	// Encoded is the number of frames given to the encoder.
	Encoded uint64
	// Samples is the number of encoded samples handed to the readers;
	// fewer than Encoded when the encoder's rate control drops frames.
	Samples uint64
	// Keyframes is how many of Samples are keyframes.
	Keyframes uint64
	// KeyframeRequests is the number of keyframes asked for: readers
	// joining, falling behind, or calling RequestKeyframe.
	KeyframeRequests uint64
	// Errors is the number of frames that could not be converted or
	// encoded.
	Errors uint64
	// Bitrate is the encoder's target in bits per second.
	Bitrate int
}

// AudioStats describes an [Audio]: the work done once for all readers.
type AudioStats struct {
	// Readers is the number of attached readers.
	Readers int
	// Blocks is the number of PCM blocks read from the source.
	Blocks uint64
	// Encoded is the number of frames given to the encoder.
	Encoded uint64
	// Samples is the number of encoded packets handed to the readers.
	Samples uint64
	// Errors is the number of blocks or frames that could not be
	// re-framed or encoded.
	Errors uint64
}
