// Package filesink writes received media to files: IVF for VP8 (and VP9
// or AV1) samples and Ogg/Opus for Opus samples, both without decoding,
// Y4M for decoded video and 16-bit PCM WAV for decoded audio. They are
// playback sinks a session can hand a remote track to.
//
// The Create functions make a file and own it; the New functions write to
// any io.Writer and leave it open. Close finishes the file: when the
// output can seek (an *os.File can) the sizes and counts in its header
// are filled in; otherwise the header says "unknown", which the readers in
// capture/filesrc accept.
package filesink
