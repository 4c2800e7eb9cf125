// Package filesrc reads media files as capture sources: IVF (VP8, VP9 or
// AV1) and Ogg/Opus as pre-encoded [capture.SampleSource]s whose samples
// pass through to the network untouched, Y4M (4:2:0) as a
// [capture.VideoSource] and 16-bit PCM WAV as a [capture.AudioSource].
//
// Each source paces itself by the file's own timing on a capture.Clock
// (the wall clock unless [Options] says otherwise), stamps what it returns
// with the time it was due, and returns io.EOF at the end of the file.
// Corrupt or truncated files give errors that name the file and the
// problem and match [ErrMalformed], [ErrTruncated] or [ErrUnsupported]
// with errors.Is.
//
// The small files in the repository's testdata directory are made by
// internal/cmd/gentestdata:
//
//go:generate go run ../../internal/cmd/gentestdata -out ../../testdata
package filesrc
