// Package opus encodes 48 kHz PCM to Opus with libopus (through
// github.com/hraban/opus), for sending over WebRTC.
//
// [Encoder] implements [capture.AudioEncoder]. It takes exactly 20 ms
// frames (960 samples per channel) of 48 kHz mono or stereo PCM; the
// session re-frames and resamples whatever a source produces before it
// calls Encode. Options cover the bitrate, in-band forward error
// correction (FEC), discontinuous transmission (DTX) and the libopus
// application mode (VoIP by default).
//
// The package uses cgo and links libopus (Debian: libopus-dev). Only the
// encoder and decoder of hraban/opus are used, so building with
// `-tags nolibopusfile` drops the libopusfile dependency.
package opus
