// Package filesrc reads media files as capture sources: IVF (VP8, VP9 or
// AV1) and Ogg/Opus as pre-encoded [capture.SampleSource]s whose samples
// pass through to the network untouched, Y4M (4:2:0) as a
// [capture.VideoSource] and 16-bit PCM WAV as a [capture.AudioSource].
// A sender uses them where it would use a camera or microphone, for
// example as the Samples of an rtclink.VideoSender (IVF) or the Source of
// an rtclink.AudioSender with an encoder (WAV).
//
// OpenIVF, OpenOgg, OpenY4M and OpenWAV open a file by path and close it
// on Close; NewIVF, NewOgg, NewY4M and NewWAV read any io.Reader. All take
// a [Config], whose zero value plays the file in real time.
//
// Each source paces itself by the file's own timing on a capture.Clock
// (the wall clock unless [Config] says otherwise), stamps what it returns
// with the time it was due, and returns io.EOF at the end of the file.
// Corrupt or truncated files give errors that name the file and the
// problem and match [ErrMalformed], [ErrTruncated] or [ErrUnsupported]
// with errors.Is; a Config that cannot be used gives [ErrConfig].
//
// The small files in the repository's testdata directory, which the
// examples read, are made by internal/cmd/gentestdata.
package filesrc

//go:generate go run ../../internal/cmd/gentestdata -out ../../testdata
