package vpx

// FrameTag is the uncompressed header at the start of every VP8 frame
// (RFC 6386, section 9.1).
type FrameTag struct {
	// Keyframe is true for an intra frame, which decodes on its own.
	Keyframe bool
	// Version is the 3-bit profile/version number.
	Version int
	// Show is false for frames that only update references.
	Show bool
	// FirstPartSize is the size of the first partition in bytes.
	FirstPartSize int
	// Width and Height are set for keyframes only, from the 7-byte
	// keyframe header that follows the tag.
	Width, Height int
}

// ParseFrameTag reads the frame tag of a VP8 frame. It reports false when
// data is too short, or claims to be a keyframe without the keyframe start
// code 9d 01 2a.
func ParseFrameTag(data []byte) (FrameTag, bool) {
	if len(data) < 3 {
		return FrameTag{}, false
	}
	raw := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16
	t := FrameTag{
		Keyframe:      raw&1 == 0,
		Version:       int(raw>>1) & 7,
		Show:          raw>>4&1 == 1,
		FirstPartSize: int(raw >> 5),
	}
	if !t.Keyframe {
		return t, true
	}
	if len(data) < 10 || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a {
		return FrameTag{}, false
	}
	t.Width = int(uint16(data[6])|uint16(data[7])<<8) & 0x3fff
	t.Height = int(uint16(data[8])|uint16(data[9])<<8) & 0x3fff
	return t, true
}
