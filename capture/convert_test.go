package capture

import (
	"math/rand/v2"
	"testing"
)

func refYUV(r, g, b float64) (y, u, v float64) {
	y = 16 + (65.738*r+129.057*g+25.064*b)/256
	u = 128 + (-37.945*r-74.494*g+112.439*b)/256
	v = 128 + (112.439*r-94.154*g-18.285*b)/256
	return
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestToI420KnownColours(t *testing.T) {
	for _, c := range []struct {
		name    string
		r, g, b byte
		y, u, v byte
	}{
		{"black", 0, 0, 0, 16, 128, 128},
		{"white", 255, 255, 255, 235, 128, 128},
		{"red", 255, 0, 0, 82, 90, 240},
		{"green", 0, 255, 0, 144, 54, 34},
		{"blue", 0, 0, 255, 41, 240, 110},
	} {
		for _, format := range []PixelFormat{FormatRGB24, FormatBGR24, FormatRGBA} {
			src := solid(format, 6, 4, c.r, c.g, c.b)
			var dst VideoFrame
			if err := ToI420(&dst, src); err != nil {
				t.Fatal(err)
			}
			y, u, v := I420Planes(&dst)
			if y[0] != c.y || u[0] != c.u || v[0] != c.v {
				t.Errorf("%s %v: got Y%d U%d V%d, want Y%d U%d V%d", c.name, format, y[0], u[0], v[0], c.y, c.u, c.v)
			}
		}
	}
}

func solid(format PixelFormat, w, h int, r, g, b byte) *VideoFrame {
	f := &VideoFrame{Format: format, Width: w, Height: h, Data: make([]byte, format.FrameSize(w, h))}
	bpp := 3
	if format == FormatRGBA {
		bpp = 4
	}
	for i := 0; i < w*h; i++ {
		p := f.Data[i*bpp:]
		if format == FormatBGR24 {
			p[0], p[1], p[2] = b, g, r
		} else {
			p[0], p[1], p[2] = r, g, b
		}
	}
	return f
}

func TestToI420MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range [][2]int{{16, 8}, {7, 5}, {1, 1}, {33, 3}} {
		w, h := size[0], size[1]
		rgb := &VideoFrame{Format: FormatRGB24, Width: w, Height: h, Data: make([]byte, 3*w*h)}
		for i := range rgb.Data {
			rgb.Data[i] = byte(rng.IntN(256))
		}
		bgr := &VideoFrame{Format: FormatBGR24, Width: w, Height: h, Data: make([]byte, 3*w*h)}
		rgba := &VideoFrame{Format: FormatRGBA, Width: w, Height: h, Data: make([]byte, 4*w*h)}
		for i := 0; i < w*h; i++ {
			bgr.Data[3*i], bgr.Data[3*i+1], bgr.Data[3*i+2] = rgb.Data[3*i+2], rgb.Data[3*i+1], rgb.Data[3*i]
			copy(rgba.Data[4*i:], rgb.Data[3*i:3*i+3])
			rgba.Data[4*i+3] = 255
		}
		var a, b, c VideoFrame
		for _, p := range []struct {
			dst, src *VideoFrame
		}{{&a, rgb}, {&b, bgr}, {&c, rgba}} {
			if err := ToI420(p.dst, p.src); err != nil {
				t.Fatal(err)
			}
		}
		if string(a.Data) != string(b.Data) || string(a.Data) != string(c.Data) {
			t.Fatalf("%dx%d: RGB24, BGR24 and RGBA of the same picture convert differently", w, h)
		}
		y, u, v := I420Planes(&a)
		cw := (w + 1) / 2
		for py := 0; py < h; py++ {
			for px := 0; px < w; px++ {
				p := rgb.Data[3*(py*w+px):]
				ry, _, _ := refYUV(float64(p[0]), float64(p[1]), float64(p[2]))
				if d := abs(float64(y[py*w+px]) - ry); d > 1 {
					t.Fatalf("%dx%d: Y at %d,%d is %d, reference %.2f", w, h, px, py, y[py*w+px], ry)
				}
			}
		}
		for cy := 0; cy < (h+1)/2; cy++ {
			for cx := 0; cx < cw; cx++ {
				var sr, sg, sb float64
				for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					px, py := min(2*cx+d[0], w-1), min(2*cy+d[1], h-1)
					p := rgb.Data[3*(py*w+px):]
					sr, sg, sb = sr+float64(p[0]), sg+float64(p[1]), sb+float64(p[2])
				}
				_, ru, rv := refYUV(sr/4, sg/4, sb/4)
				if abs(float64(u[cy*cw+cx])-ru) > 1 || abs(float64(v[cy*cw+cx])-rv) > 1 {
					t.Fatalf("%dx%d: chroma at %d,%d is %d,%d, reference %.2f,%.2f", w, h, cx, cy, u[cy*cw+cx], v[cy*cw+cx], ru, rv)
				}
			}
		}
	}
}

// i420Pattern makes an I420 frame whose chroma is constant down each pair
// of rows, so 4:2:2 and NV12 versions of it convert back exactly.
func i420Pattern(w, h int) *VideoFrame {
	f := &VideoFrame{Format: FormatI420, Width: w, Height: h, Data: make([]byte, FormatI420.FrameSize(w, h))}
	for i := range f.Data {
		f.Data[i] = byte(i*7 + i/13)
	}
	return f
}

func TestToI420FromYUYVAndNV12(t *testing.T) {
	for _, size := range [][2]int{{8, 6}, {5, 3}, {2, 1}} {
		w, h := size[0], size[1]
		ref := i420Pattern(w, h)
		y, u, v := I420Planes(ref)
		cw := (w + 1) / 2
		yuyv := &VideoFrame{Format: FormatYUYV, Width: w, Height: h, Data: make([]byte, FormatYUYV.FrameSize(w, h))}
		for py := 0; py < h; py++ {
			row := yuyv.Data[py*4*cw:]
			for k := 0; k < cw; k++ {
				row[4*k] = y[py*w+2*k]
				if 2*k+1 < w {
					row[4*k+2] = y[py*w+2*k+1]
				}
				row[4*k+1], row[4*k+3] = u[(py/2)*cw+k], v[(py/2)*cw+k]
			}
		}
		nv12 := &VideoFrame{Format: FormatNV12, Width: w, Height: h, Data: make([]byte, FormatNV12.FrameSize(w, h))}
		copy(nv12.Data, y)
		for i := range u {
			nv12.Data[w*h+2*i], nv12.Data[w*h+2*i+1] = u[i], v[i]
		}
		for _, src := range []*VideoFrame{yuyv, nv12, ref} {
			dst := VideoFrame{Data: make([]byte, 1, 1<<16)}
			if err := ToI420(&dst, src); err != nil {
				t.Fatal(err)
			}
			if string(dst.Data) != string(ref.Data) {
				t.Errorf("%dx%d %v: converted frame differs from the original", w, h, src.Format)
			}
		}
	}
}

func TestToI420RejectsBadFrames(t *testing.T) {
	var dst VideoFrame
	if err := ToI420(&dst, &VideoFrame{Format: FormatBGR24, Width: 4, Height: 4, Data: make([]byte, 10)}); err == nil {
		t.Error("short buffer accepted")
	}
	if err := ToI420(&dst, &VideoFrame{Format: PixelFormat(99), Width: 4, Height: 4, Data: make([]byte, 100)}); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestToI420ReusesBuffer(t *testing.T) {
	src := solid(FormatBGR24, 64, 48, 1, 2, 3)
	var dst VideoFrame
	if err := ToI420(&dst, src); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() { _ = ToI420(&dst, src) })
	if allocs != 0 {
		t.Errorf("ToI420 into a large enough frame allocates %v times", allocs)
	}
}

func benchConvert(b *testing.B, format PixelFormat) {
	w, h := 640, 480
	src := &VideoFrame{Format: format, Width: w, Height: h, Data: make([]byte, format.FrameSize(w, h))}
	for i := range src.Data {
		src.Data[i] = byte(i * 31)
	}
	var dst VideoFrame
	b.SetBytes(int64(len(src.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ToI420(&dst, src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToI420BGR24(b *testing.B) { benchConvert(b, FormatBGR24) }
func BenchmarkToI420RGB24(b *testing.B) { benchConvert(b, FormatRGB24) }
func BenchmarkToI420RGBA(b *testing.B)  { benchConvert(b, FormatRGBA) }
func BenchmarkToI420YUYV(b *testing.B)  { benchConvert(b, FormatYUYV) }
func BenchmarkToI420NV12(b *testing.B)  { benchConvert(b, FormatNV12) }
