// Package opus decodes Opus packets to 48 kHz PCM with libopus (through
// github.com/hraban/opus).
//
// [Decoder] implements [playback.AudioDecoder]. A nil packet asks it to
// conceal one lost 20 ms packet (packet-loss concealment), and
// [Decoder.DecodeFEC] rebuilds a lost packet from the forward error
// correction data in the packet after it, when the sender turned FEC on.
//
// The package uses cgo and links libopus (Debian: libopus-dev). Only the
// decoder of hraban/opus is used, so building with `-tags nolibopusfile`
// drops the libopusfile dependency.
package opus
