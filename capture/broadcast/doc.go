// Package broadcast encodes a robot's camera and microphone once and
// hands the same encoded samples to every viewer.
//
// A robot watched by several people at once runs one rtclink session per
// viewer. Given a raw source and an encoder each, every session would
// capture and encode the same pictures again: CPU grows with the number of
// viewers, and a camera can be opened only once anyway. Instead, a [Video]
// owns the source and the encoder, and each session gets a [VideoReader]
// as its VideoSender's Samples; an [Audio] and its [AudioReader]s do the
// same for sound. Use this package whenever one robot streams the same
// media to more than one viewer; a single viewer is better served by
// rtclink's own encoding, which follows that viewer's link exactly.
//
// Encoding once means sharing decisions that a session would take for its
// viewer alone:
//
//   - Keyframes. A reader's first sample is a keyframe, and so is the
//     first after it fell behind: it skips the frames before, which it
//     could not decode. Readers ask for keyframes (on joining, on falling
//     behind, and on a viewer's PLI through RequestKeyframe) and each
//     keyframe goes to all. One made on request comes at least
//     KeyframeInterval of stream time after the keyframe before; a
//     request inside the interval is served when it ends, never dropped.
//   - Bitrate. Each reader may report its viewer's congestion estimate
//     with SetTargetBitrate. The encoder follows the lowest report, so no
//     viewer's link is flooded, but never below MinBitrate, so that one
//     viewer on a bad link cannot ruin the picture for all.
//   - Falling behind. Each reader has a small queue. A video reader that
//     overflows it drops the queue and starts again at the next keyframe;
//     an audio reader loses its oldest packets. Neither ever holds up the
//     encoder or the other readers.
//
// Nothing is read or encoded while there is no reader, so a robot nobody
// watches spends no CPU on encoding. Closing a reader detaches one viewer;
// closing the Video or Audio closes the source and the encoder and ends
// every reader with io.EOF.
package broadcast
