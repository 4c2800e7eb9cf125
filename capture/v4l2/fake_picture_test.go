package v4l2

import (
	"bytes"
	"image"
	"image/jpeg"

	"github.com/avlink/avlink/capture"
)

// The fake device's pictures: deterministic reference frames and their
// bytes in each pixel format the fake offers.

func (d *fakeDevice) content(seq uint32, f FourCC, w, h, stride int) []byte {
	if d.picture != nil {
		return d.picture(seq, f, w, h, stride)
	}
	data := devicePicture(refPicture(seq, w, h), f, stride)
	if f.compressed() && d.stripDHT {
		data = stripDHT(data)
	}
	return data
}

// refPicture is a deterministic I420 picture for frame seq: gradients
// that move with seq, so every frame differs and every byte matters.
func refPicture(seq uint32, w, h int) *capture.VideoFrame {
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h, Data: make([]byte, capture.FormatI420.FrameSize(w, h))}
	y, u, v := capture.I420Planes(f)
	s := int(seq)
	for py := range h {
		for px := range w {
			y[py*w+px] = byte(16 + (px*3+py*2+s*7)%220)
		}
	}
	cw := (w + 1) / 2
	for i := range u {
		cx, cy := i%cw, i/cw
		u[i] = byte(16 + (cx*5+cy+s*3)%225)
		v[i] = byte(16 + (cx+cy*4+s*11)%225)
	}
	return f
}

// devicePicture lays out an I420 picture as the device sends it, with
// rows stride bytes apart (padding filled with 0xee) for uncompressed
// formats, or as a JPEG.
func devicePicture(ref *capture.VideoFrame, f FourCC, stride int) []byte {
	w, h := ref.Width, ref.Height
	y, u, v := capture.I420Planes(ref)
	cw := (w + 1) / 2
	if f.compressed() {
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		for py := range h {
			copy(img.Y[py*img.YStride:], y[py*w:(py+1)*w])
		}
		for cy := range (h + 1) / 2 {
			copy(img.Cb[cy*img.CStride:], u[cy*cw:(cy+1)*cw])
			copy(img.Cr[cy*img.CStride:], v[cy*cw:(cy+1)*cw])
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
			panic(err)
		}
		return b.Bytes()
	}
	rows := h
	if f == NV12 {
		rows += (h + 1) / 2
	}
	out := bytes.Repeat([]byte{0xee}, stride*rows)
	for py := range h {
		row := out[py*stride:]
		c := (py / 2) * cw
		for px := range w {
			switch f {
			case YUYV:
				row[2*px] = y[py*w+px]
				if px%2 == 0 {
					row[2*px+1] = u[c+px/2]
				} else {
					row[2*px+1] = v[c+px/2]
				}
			case NV12:
				row[px] = y[py*w+px]
			case RGB24, BGR24:
				r, g, b := yuvToRGB(y[py*w+px], u[c+px/2], v[c+px/2])
				if f == BGR24 {
					r, b = b, r
				}
				row[3*px], row[3*px+1], row[3*px+2] = r, g, b
			}
		}
	}
	if f == NV12 {
		for cy := range (h + 1) / 2 {
			row := out[(h+cy)*stride:]
			for cx := range cw {
				row[2*cx], row[2*cx+1] = u[cy*cw+cx], v[cy*cw+cx]
			}
		}
	}
	return out
}

// yuvToRGB is BT.601 limited range to RGB.
func yuvToRGB(y, u, v byte) (r, g, b byte) {
	c, d, e := int(y)-16, int(u)-128, int(v)-128
	clip := func(x int) byte { return byte(min(max((x+128)>>8, 0), 255)) }
	return clip(298*c + 409*e), clip(298*c - 100*d - 208*e), clip(298*c + 516*d)
}

// stripDHT removes the Huffman table segments from a JPEG, as many UVC
// cameras send MJPEG.
func stripDHT(data []byte) []byte {
	out := []byte{0xff, 0xd8}
	i := 2
	for i+4 <= len(data) {
		m := data[i+1]
		if m == 0xda {
			return append(out, data[i:]...)
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if m != 0xc4 {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
	return out
}
