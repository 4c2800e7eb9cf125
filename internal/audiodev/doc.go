// Package audiodev is the PortAudio layer shared by capture/mic and
// playback/speaker: a reference-counted Initialize and Terminate, the
// device list, device lookup by index or name, the choice of sample rate
// and channel count, and stream opening, all serialised behind one lock
// because PortAudio's own calls are not safe for concurrent use. It also
// holds what the two packages would otherwise each repeat: the device as
// one direction sees it ([Endpoint], [ListAs]), the check of a stream's
// numbers, and the turning of its errors into theirs ([Errors]).
//
// Nothing here runs at import: PortAudio is initialised by the first
// [Acquire] and terminated when the last [Handle] is released, so a
// device list taken with nothing open is always fresh (PortAudio scans
// devices only in Initialize).
//
// On Linux, PortAudio's host libraries (ALSA and JACK) print a stream of
// diagnostics on stderr while they probe devices that are not there
// ("cannot find card '0'", "jack server is not running"). Before the
// first Initialize the package turns those messages off (looking the
// libraries' error-handler hooks up at run time, so nothing more is
// linked); every failure that matters still comes back from PortAudio as
// an error.
package audiodev
