package capture

import "fmt"

// ToI420 converts src into dst as I420, reusing dst.Data when it is large
// enough, so a source can convert every frame without allocating. dst takes
// src's size and Time. RGB formats use BT.601 limited-range coefficients
// (what VP8 and H.264 encoders and browsers assume) in integer arithmetic;
// chroma is the average of each 2×2 block. An I420 src is copied.
//
// dst and src must not share a buffer.
func ToI420(dst, src *VideoFrame) error {
	if err := src.Validate(); err != nil {
		return err
	}
	w, h := src.Width, src.Height
	n := FormatI420.FrameSize(w, h)
	if cap(dst.Data) < n {
		dst.Data = make([]byte, n)
	}
	dst.Data = dst.Data[:n]
	dst.Format, dst.Width, dst.Height, dst.Time = FormatI420, w, h, src.Time
	switch src.Format {
	case FormatI420:
		copy(dst.Data, src.Data[:n])
	case FormatNV12:
		nv12ToI420(dst.Data, src.Data, w, h)
	case FormatYUYV:
		yuyvToI420(dst.Data, src.Data, w, h)
	case FormatRGB24:
		rgbToI420(dst.Data, src.Data, w, h, 3, 0, 1, 2)
	case FormatBGR24:
		rgbToI420(dst.Data, src.Data, w, h, 3, 2, 1, 0)
	case FormatRGBA:
		rgbToI420(dst.Data, src.Data, w, h, 4, 0, 1, 2)
	default:
		return fmt.Errorf("%w: no conversion from %v to I420", ErrUnsupportedFormat, src.Format)
	}
	return nil
}

// I420Planes returns the Y, U and V planes of an I420 frame's buffer. It
// panics if f.Data is shorter than the frame's size; call Validate first
// on untrusted frames.
func I420Planes(f *VideoFrame) (y, u, v []byte) {
	w, h := f.Width, f.Height
	cs := ((w + 1) / 2) * ((h + 1) / 2)
	return f.Data[:w*h], f.Data[w*h : w*h+cs], f.Data[w*h+cs : w*h+2*cs]
}

// rgbToI420 converts packed RGB-like pixels of bpp bytes with the red,
// green and blue bytes at offsets ri, gi and bi.
func rgbToI420(dst, src []byte, w, h, bpp, ri, gi, bi int) {
	cw, ch := (w+1)/2, (h+1)/2
	yp := dst[:w*h]
	up := dst[w*h : w*h+cw*ch]
	vp := dst[w*h+cw*ch : w*h+2*cw*ch]
	stride := w * bpp
	for y := 0; y < h; y += 2 {
		y1 := y + 1
		if y1 >= h {
			y1 = y
		}
		s0 := src[y*stride : y*stride+stride]
		s1 := src[y1*stride : y1*stride+stride]
		d0 := yp[y*w : y*w+w]
		d1 := yp[y1*w : y1*w+w]
		uo := up[(y/2)*cw : (y/2)*cw+cw]
		vo := vp[(y/2)*cw : (y/2)*cw+cw]
		for x := 0; x < w; x += 2 {
			x1 := x + 1
			if x1 >= w {
				x1 = x
			}
			a, b := x*bpp, x1*bpp
			r00, g00, b00 := int32(s0[a+ri]), int32(s0[a+gi]), int32(s0[a+bi])
			r01, g01, b01 := int32(s0[b+ri]), int32(s0[b+gi]), int32(s0[b+bi])
			r10, g10, b10 := int32(s1[a+ri]), int32(s1[a+gi]), int32(s1[a+bi])
			r11, g11, b11 := int32(s1[b+ri]), int32(s1[b+gi]), int32(s1[b+bi])
			d0[x] = byte((66*r00+129*g00+25*b00+128)>>8 + 16)
			d0[x1] = byte((66*r01+129*g01+25*b01+128)>>8 + 16)
			d1[x] = byte((66*r10+129*g10+25*b10+128)>>8 + 16)
			d1[x1] = byte((66*r11+129*g11+25*b11+128)>>8 + 16)
			sr, sg, sb := r00+r01+r10+r11, g00+g01+g10+g11, b00+b01+b10+b11
			uo[x/2] = byte((-38*sr-74*sg+112*sb+512)>>10 + 128)
			vo[x/2] = byte((112*sr-94*sg-18*sb+512)>>10 + 128)
		}
	}
}

// yuyvToI420 converts packed 4:2:2 (Y0 U Y1 V) by averaging chroma of
// each pair of rows.
func yuyvToI420(dst, src []byte, w, h int) {
	cw, ch := (w+1)/2, (h+1)/2
	yp := dst[:w*h]
	up := dst[w*h : w*h+cw*ch]
	vp := dst[w*h+cw*ch : w*h+2*cw*ch]
	stride := 4 * cw
	for y := 0; y < h; y++ {
		s := src[y*stride : y*stride+stride]
		d := yp[y*w : y*w+w]
		for x := range d {
			d[x] = s[2*x]
		}
	}
	for y := 0; y < h; y += 2 {
		y1 := y + 1
		if y1 >= h {
			y1 = y
		}
		s0 := src[y*stride : y*stride+stride]
		s1 := src[y1*stride : y1*stride+stride]
		uo := up[(y/2)*cw : (y/2)*cw+cw]
		vo := vp[(y/2)*cw : (y/2)*cw+cw]
		for k := range uo {
			uo[k] = byte((uint16(s0[4*k+1]) + uint16(s1[4*k+1]) + 1) / 2)
			vo[k] = byte((uint16(s0[4*k+3]) + uint16(s1[4*k+3]) + 1) / 2)
		}
	}
}

// nv12ToI420 copies the Y plane and splits the interleaved UV plane.
func nv12ToI420(dst, src []byte, w, h int) {
	cw, ch := (w+1)/2, (h+1)/2
	copy(dst[:w*h], src[:w*h])
	up := dst[w*h : w*h+cw*ch]
	vp := dst[w*h+cw*ch : w*h+2*cw*ch]
	uv := src[w*h : w*h+2*cw*ch]
	for i := range up {
		up[i] = uv[2*i]
		vp[i] = uv[2*i+1]
	}
}
