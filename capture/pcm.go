package capture

// Int16ToFloat32 appends src converted to float32 in [-1, 1) to dst and
// returns the extended slice. Full scale is 32768, so the conversion back
// with [Float32ToInt16] is exact.
func Int16ToFloat32(dst []float32, src []int16) []float32 {
	for _, s := range src {
		dst = append(dst, float32(s)*(1.0/32768))
	}
	return dst
}

// Float32ToInt16 appends src converted to int16 to dst, rounding to the
// nearest value and clipping anything outside [-1, 1) instead of wrapping
// around, and returns the extended slice.
func Float32ToInt16(dst []int16, src []float32) []int16 {
	for _, s := range src {
		dst = append(dst, floatToInt16(s))
	}
	return dst
}

func floatToInt16(s float32) int16 {
	v := s * 32768
	switch {
	case v >= 32767:
		return 32767
	case v <= -32768:
		return -32768
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

// Remix appends interleaved PCM with inCh channels, converted to outCh
// channels, to dst and returns the extended slice. Down to mono it
// averages every channel; up from mono it copies the one channel to all;
// between other counts output channel c takes input channel c, and
// channels beyond the input's are copies of its last one. It returns dst
// unchanged if either count is not positive.
func Remix(dst, src []int16, inCh, outCh int) []int16 {
	if inCh <= 0 || outCh <= 0 {
		return dst
	}
	frames := len(src) / inCh
	switch {
	case inCh == outCh:
		return append(dst, src[:frames*inCh]...)
	case outCh == 1:
		for i := 0; i < frames; i++ {
			var sum int32
			for _, s := range src[i*inCh : i*inCh+inCh] {
				sum += int32(s)
			}
			dst = append(dst, int16(sum/int32(inCh)))
		}
	default:
		for i := 0; i < frames; i++ {
			in := src[i*inCh : i*inCh+inCh]
			for c := 0; c < outCh; c++ {
				dst = append(dst, in[min(c, inCh-1)])
			}
		}
	}
	return dst
}
