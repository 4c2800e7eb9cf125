// Package h264 passes pre-encoded H.264 through to the network: it reads
// an Annex-B stream access unit by access unit, and reads the stream's
// sequence parameter set (SPS) so that SDP signals the profile and level
// the stream actually carries.
//
// A hardware encoder (a Jetson's, a camera's) or a recorded .h264 file
// produces Annex-B: NAL units separated by 00 00 01 or 00 00 00 01 start
// codes. [SplitAnnexB] cuts such a buffer into NAL units, [ParseSPS] reads
// an SPS, and [SPS.Codec] turns it into the video/H264 codec description
// with profile-level-id and packetization-mode=1, which Chrome, Firefox
// and Safari need to match before they decode. [FileSource] is a
// [capture.SampleSource] that plays an Annex-B file in real time, paced by
// a [capture.Clock].
//
// The package is pure Go and builds with CGO_ENABLED=0.
package h264
