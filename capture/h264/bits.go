package h264

import "fmt"

// unescapeRBSP removes emulation prevention bytes: every 00 00 03 becomes
// 00 00 (H.264 7.4.1).
func unescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// bitReader reads big-endian bit fields and Exp-Golomb codes of an SPS.
// The first error (wrapping ErrBadSPS) sticks; later reads return 0.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) u(n int) uint32 {
	var v uint32
	for range n {
		if r.err != nil {
			return 0
		}
		if r.pos >= 8*len(r.b) {
			r.err = fmt.Errorf("%w: ends after %d bits", ErrBadSPS, r.pos)
			return 0
		}
		bit := r.b[r.pos/8] >> (7 - r.pos%8) & 1
		v = v<<1 | uint32(bit)
		r.pos++
	}
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

// ue reads an unsigned Exp-Golomb code (H.264 9.1). Codes longer than 32
// bits do not occur in valid streams and are an error.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.u(1) == 0 {
		if r.err != nil {
			return 0
		}
		zeros++
		if zeros > 31 {
			r.err = fmt.Errorf("%w: Exp-Golomb code too long at bit %d", ErrBadSPS, r.pos)
			return 0
		}
	}
	return (uint32(1)<<zeros - 1) + r.u(zeros)
}

// se reads a signed Exp-Golomb code.
func (r *bitReader) se() int32 {
	k := r.ue()
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return -int32(k / 2)
}
