package capture

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// refLimited maps a full-range value to limited range the long way.
func refLimited(v float64, luma bool) byte {
	if luma {
		return byte(math.Round(16 + v*219/255))
	}
	return byte(math.Round(128 + (v-128)*224/255))
}

func TestImageToI420Solid(t *testing.T) {
	for _, c := range []struct {
		name       string
		y, cb, cr  byte
		wy, wu, wv byte
	}{
		{"black", 0, 128, 128, 16, 128, 128},
		{"white", 255, 128, 128, 235, 128, 128},
		{"extremes", 255, 0, 255, 235, 16, 240},
	} {
		for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422,
			image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
			m := image.NewYCbCr(image.Rect(0, 0, 7, 5), r)
			fill(m.Y, c.y)
			fill(m.Cb, c.cb)
			fill(m.Cr, c.cr)
			var dst VideoFrame
			if err := ImageToI420(&dst, m); err != nil {
				t.Fatal(err)
			}
			if err := dst.Validate(); err != nil || dst.Width != 7 || dst.Height != 5 {
				t.Fatalf("%v %dx%d: %v", dst.Format, dst.Width, dst.Height, err)
			}
			y, u, v := I420Planes(&dst)
			for _, p := range [][2]any{{y, c.wy}, {u, c.wu}, {v, c.wv}} {
				if bytes.Count(p[0].([]byte), []byte{p[1].(byte)}) != len(p[0].([]byte)) {
					t.Errorf("%s %v: plane % x, want all %d", c.name, r, p[0], p[1])
				}
			}
		}
	}
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// Every subsampling ratio, at odd sizes and odd origins, gives each 2×2
// block the rounded mean of its four pixels' chroma, scaled to limited
// range.
func TestImageToI420Subsampling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		for _, rect := range []image.Rectangle{image.Rect(0, 0, 16, 8), image.Rect(0, 0, 13, 7), image.Rect(3, 1, 20, 12)} {
			full := image.NewYCbCr(image.Rect(0, 0, rect.Max.X, rect.Max.Y), r)
			for _, p := range [][]byte{full.Y, full.Cb, full.Cr} {
				for i := range p {
					p[i] = byte(rng.IntN(256))
				}
			}
			m := full.SubImage(rect).(*image.YCbCr)
			var dst VideoFrame
			if err := ImageToI420(&dst, m); err != nil {
				t.Fatal(err)
			}
			w, h := rect.Dx(), rect.Dy()
			y, u, v := I420Planes(&dst)
			for py := range h {
				for px := range w {
					want := refLimited(float64(m.YCbCrAt(rect.Min.X+px, rect.Min.Y+py).Y), true)
					if y[py*w+px] != want {
						t.Fatalf("%v %v: Y(%d,%d) = %d, want %d", r, rect, px, py, y[py*w+px], want)
					}
				}
			}
			cw := (w + 1) / 2
			for cy := range (h + 1) / 2 {
				for cx := range cw {
					var sb, sr int
					for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
						x := rect.Min.X + min(2*cx+d[0], w-1)
						yy := rect.Min.Y + min(2*cy+d[1], h-1)
						c := m.YCbCrAt(x, yy)
						sb += int(c.Cb)
						sr += int(c.Cr)
					}
					wu, wv := refLimited(float64((sb+2)>>2), false), refLimited(float64((sr+2)>>2), false)
					if u[cy*cw+cx] != wu || v[cy*cw+cx] != wv {
						t.Fatalf("%v %v: chroma (%d,%d) = %d,%d, want %d,%d", r, rect, cx, cy, u[cy*cw+cx], v[cy*cw+cx], wu, wv)
					}
				}
			}
		}
	}
}

// A JPEG of an RGB picture converts to (nearly) what ToI420 makes of the
// picture itself: the full-to-limited scaling agrees with the RGB
// converters.
func TestImageToI420MatchesRGBConversion(t *testing.T) {
	const w, h = 64, 48
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			rgba.SetNRGBA(x, y, color.NRGBA{R: byte(x * 4), G: byte(y * 5), B: byte(255 - x*2), A: 255})
		}
	}
	var ref VideoFrame
	if err := ToI420(&ref, &VideoFrame{Format: FormatRGBA, Width: w, Height: h, Data: rgba.Pix}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]image.Image{"jpeg": img, "nrgba": rgba} {
		var got VideoFrame
		if err := ImageToI420(&got, src); err != nil {
			t.Fatal(err)
		}
		// Luma is compared over the whole frame; chroma lost detail to
		// JPEG's own 4:2:0 subsampling.
		var se float64
		for i := range w * h {
			d := float64(got.Data[i]) - float64(ref.Data[i])
			se += d * d
		}
		psnr := 10 * math.Log10(255*255/(se/float64(w*h)))
		if name == "nrgba" && !bytes.Equal(got.Data, ref.Data) {
			t.Errorf("an NRGBA image converts differently from the same bytes as FormatRGBA")
		}
		if psnr < 40 {
			t.Errorf("%s: luma PSNR %.1f dB against ToI420 of the RGB picture", name, psnr)
		}
	}
}

func TestImageToI420Gray(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 3, 3))
	g.Pix = []byte{0, 128, 255, 0, 128, 255, 0, 128, 255}
	dst := VideoFrame{Data: make([]byte, 100)}
	if err := ImageToI420(&dst, g); err != nil {
		t.Fatal(err)
	}
	y, u, v := I420Planes(&dst)
	if !bytes.Equal(y, []byte{16, 126, 235, 16, 126, 235, 16, 126, 235}) || !bytes.Equal(u, []byte{128, 128, 128, 128}) || !bytes.Equal(v, u) {
		t.Fatalf("gray: y % x u % x v % x", y, u, v)
	}
	if cap(dst.Data) != 100 {
		t.Error("a large enough buffer was not reused")
	}
	if err := ImageToI420(&dst, image.NewGray(image.Rect(0, 0, 0, 4))); err == nil {
		t.Error("an empty image converted")
	}
}

func BenchmarkImageToI420YCbCr422(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio422)
	var dst VideoFrame
	for b.Loop() {
		_ = ImageToI420(&dst, m)
	}
}
