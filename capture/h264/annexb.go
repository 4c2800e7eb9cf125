package h264

// NAL unit types (ITU-T H.264 table 7-1) that the package looks at.
const (
	NALSlice    = 1  // coded slice of a non-IDR picture
	NALIDR      = 5  // coded slice of an IDR picture (a keyframe)
	NALSEI      = 6  // supplemental enhancement information
	NALSPS      = 7  // sequence parameter set
	NALPPS      = 8  // picture parameter set
	NALAUD      = 9  // access unit delimiter
	NALEndSeq   = 10 // end of sequence
	NALEndStrm  = 11 // end of stream
	NALFillData = 12 // filler data
)

// NALType returns the nal_unit_type of a NAL unit (without start code),
// or -1 for an empty one.
func NALType(nal []byte) int {
	if len(nal) == 0 {
		return -1
	}
	return int(nal[0] & 0x1f)
}

// SplitAnnexB cuts an Annex-B byte stream into its NAL units, without
// start codes and without the zero bytes that may trail a NAL unit.
// Bytes before the first start code are ignored, as are empty units. The
// returned slices share memory with data.
func SplitAnnexB(data []byte) [][]byte {
	var nals [][]byte
	i := findStartCode(data)
	if i < 0 {
		return nil
	}
	data = data[i+3:]
	for {
		j := findStartCode(data)
		if j < 0 {
			return appendNAL(nals, data)
		}
		nals = appendNAL(nals, data[:j])
		data = data[j+3:]
	}
}

// findStartCode returns the index of the first 00 00 01 in b, or -1.
func findStartCode(b []byte) int {
	for i := 0; i+2 < len(b); {
		switch {
		case b[i+2] > 1:
			// No start code can begin at i, i+1 or i+2.
			i += 3
		case b[i] == 0 && b[i+1] == 0 && b[i+2] == 1:
			return i
		default:
			i++
		}
	}
	return -1
}

// appendNAL appends nal, with trailing zero bytes (the first byte of a
// four-byte start code, or trailing_zero_8bits) removed, unless it ends up
// empty.
func appendNAL(nals [][]byte, nal []byte) [][]byte {
	if nal = trimZeros(nal); len(nal) == 0 {
		return nals
	}
	return append(nals, nal[:len(nal):len(nal)])
}

// AppendAnnexB appends nals to dst, each after a four-byte start code.
func AppendAnnexB(dst []byte, nals ...[]byte) []byte {
	for _, n := range nals {
		dst = append(dst, 0, 0, 0, 1)
		dst = append(dst, n...)
	}
	return dst
}
