package capture

import (
	"fmt"
	"image"
	"image/draw"
)

// ImageToI420 converts a decoded picture — what image/jpeg returns for a
// camera's MJPEG frame, for instance — into dst as I420, reusing dst.Data
// when it is large enough. dst takes the image's size; its Time is left
// as it is.
//
// An *image.YCbCr of any subsampling ratio and an *image.Gray are
// converted directly: Go's image.YCbCr is JPEG's full-range YCbCr (JFIF),
// so luma and chroma are scaled to the BT.601 limited range that
// [ToI420]'s RGB conversions produce and video encoders assume. Chroma
// sampled more finely than 4:2:0 is averaged down. Any other image is
// drawn into RGBA first and converted like [FormatRGBA], which is slower.
func ImageToI420(dst *VideoFrame, img image.Image) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: image of %dx%d", ErrBadFrame, w, h)
	}
	n := FormatI420.FrameSize(w, h)
	if cap(dst.Data) < n {
		dst.Data = make([]byte, n)
	}
	dst.Data = dst.Data[:n]
	dst.Format, dst.Width, dst.Height = FormatI420, w, h
	y, u, v := I420Planes(dst)
	switch m := img.(type) {
	case *image.YCbCr:
		ycbcrToI420(y, u, v, m)
	case *image.Gray:
		for py := range h {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+py):][:w]
			row := y[py*w : py*w+w]
			for x, s := range src {
				row[x] = lumaLimited[s]
			}
		}
		for i := range u {
			u[i], v[i] = 128, 128
		}
	default:
		rgba := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
		rgbToI420(dst.Data, rgba.Pix, w, h, 4, 0, 1, 2)
	}
	return nil
}

// lumaLimited and chromaLimited map full-range (0..255) luma and chroma
// to BT.601 limited range (16..235 and 16..240).
var lumaLimited, chromaLimited = func() (l, c [256]byte) {
	for i := range 256 {
		l[i] = byte(16 + (i*219+127)/255)
		d := (i - 128) * 224
		if d >= 0 {
			c[i] = byte(128 + (d+127)/255)
		} else {
			c[i] = byte(128 - (-d+127)/255)
		}
	}
	return l, c
}()

// ycbcrToI420 converts m into the planes of a w×h I420 frame. The common
// layouts that image/jpeg produces (origin at 0,0; 4:2:0, 4:2:2, 4:4:4 or
// 4:4:0) take fast paths; others read each pixel's chroma through
// COffset.
func ycbcrToI420(yp, up, vp []byte, m *image.YCbCr) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	for py := range h {
		src := m.Y[m.YOffset(b.Min.X, b.Min.Y+py):][:w]
		row := yp[py*w : py*w+w]
		for x, s := range src {
			row[x] = lumaLimited[s]
		}
	}
	if b.Min != (image.Point{}) {
		ycbcrChromaAny(up, vp, m, cw, ch)
		return
	}
	cs := m.CStride
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio420:
		for cy := range ch {
			cb, cr := m.Cb[cy*cs:][:cw], m.Cr[cy*cs:][:cw]
			uo, vo := up[cy*cw:][:cw], vp[cy*cw:][:cw]
			for x := range cw {
				uo[x], vo[x] = chromaLimited[cb[x]], chromaLimited[cr[x]]
			}
		}
	case image.YCbCrSubsampleRatio422:
		// Chroma is (w+1)/2 wide and h high: average each pair of rows.
		for cy := range ch {
			r0, r1 := 2*cy*cs, min(2*cy+1, h-1)*cs
			cb0, cb1, cr0, cr1 := m.Cb[r0:][:cw], m.Cb[r1:][:cw], m.Cr[r0:][:cw], m.Cr[r1:][:cw]
			uo, vo := up[cy*cw:][:cw], vp[cy*cw:][:cw]
			for x := range cw {
				uo[x] = chromaLimited[(uint16(cb0[x])+uint16(cb1[x])+1)>>1]
				vo[x] = chromaLimited[(uint16(cr0[x])+uint16(cr1[x])+1)>>1]
			}
		}
	case image.YCbCrSubsampleRatio444:
		for cy := range ch {
			r0, r1 := 2*cy*cs, min(2*cy+1, h-1)*cs
			for cx := range cw {
				x0, x1 := 2*cx, min(2*cx+1, w-1)
				up[cy*cw+cx] = chromaLimited[avg4(m.Cb[r0+x0], m.Cb[r0+x1], m.Cb[r1+x0], m.Cb[r1+x1])]
				vp[cy*cw+cx] = chromaLimited[avg4(m.Cr[r0+x0], m.Cr[r0+x1], m.Cr[r1+x0], m.Cr[r1+x1])]
			}
		}
	case image.YCbCrSubsampleRatio440:
		// Chroma is w wide and (h+1)/2 high: average each pair of columns.
		for cy := range ch {
			r := cy * cs
			for cx := range cw {
				x0, x1 := 2*cx, min(2*cx+1, w-1)
				up[cy*cw+cx] = chromaLimited[(uint16(m.Cb[r+x0])+uint16(m.Cb[r+x1])+1)>>1]
				vp[cy*cw+cx] = chromaLimited[(uint16(m.Cr[r+x0])+uint16(m.Cr[r+x1])+1)>>1]
			}
		}
	default:
		ycbcrChromaAny(up, vp, m, cw, ch)
	}
}

// ycbcrChromaAny averages the chroma of each 2×2 block of pixels, reading
// every pixel's chroma sample through COffset: correct for any layout.
func ycbcrChromaAny(up, vp []byte, m *image.YCbCr, cw, ch int) {
	b := m.Rect
	for cy := range ch {
		y0 := b.Min.Y + 2*cy
		y1 := min(y0+1, b.Max.Y-1)
		for cx := range cw {
			x0 := b.Min.X + 2*cx
			x1 := min(x0+1, b.Max.X-1)
			o00, o01, o10, o11 := m.COffset(x0, y0), m.COffset(x1, y0), m.COffset(x0, y1), m.COffset(x1, y1)
			up[cy*cw+cx] = chromaLimited[avg4(m.Cb[o00], m.Cb[o01], m.Cb[o10], m.Cb[o11])]
			vp[cy*cw+cx] = chromaLimited[avg4(m.Cr[o00], m.Cr[o01], m.Cr[o10], m.Cr[o11])]
		}
	}
}

func avg4(a, b, c, d byte) byte {
	return byte((uint16(a) + uint16(b) + uint16(c) + uint16(d) + 2) >> 2)
}
