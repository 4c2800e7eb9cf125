package depth

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/avlink/avlink/capture"
)

func newMap(t testing.TB, cfg Config) *Map {
	t.Helper()
	m, err := NewMap(cfg)
	if err != nil {
		t.Fatalf("NewMap(%+v): %v", cfg, err)
	}
	return m
}

// z16 makes a w×h depth frame whose pixel i has depth at(i).
func z16(w, h int, at func(i int) uint16) *capture.VideoFrame {
	f := &capture.VideoFrame{Format: capture.FormatZ16, Width: w, Height: h, Data: make([]byte, 2*w*h)}
	for i := range w * h {
		d := at(i)
		f.Data[2*i], f.Data[2*i+1] = byte(d), byte(d>>8)
	}
	return f
}

// viaRGB colourises f through the capture package's own RGB converter:
// the reference the table must match.
func viaRGB(t testing.TB, m *Map, f *capture.VideoFrame) *capture.VideoFrame {
	t.Helper()
	rgb := &capture.VideoFrame{Format: capture.FormatRGB24, Width: f.Width, Height: f.Height, Data: make([]byte, 3*f.Width*f.Height)}
	for i := range f.Width * f.Height {
		r, g, b := m.RGB(uint16(f.Data[2*i]) | uint16(f.Data[2*i+1])<<8)
		rgb.Data[3*i], rgb.Data[3*i+1], rgb.Data[3*i+2] = r, g, b
	}
	var out capture.VideoFrame
	if err := capture.ToI420(&out, rgb); err != nil {
		t.Fatal(err)
	}
	return &out
}

func colourise(t testing.TB, m *Map, f *capture.VideoFrame) *capture.VideoFrame {
	t.Helper()
	var out capture.VideoFrame
	if err := m.ToI420(&out, f); err != nil {
		t.Fatalf("ToI420: %v", err)
	}
	if err := out.Validate(); err != nil || out.Format != capture.FormatI420 || out.Width != f.Width || out.Height != f.Height {
		t.Fatalf("ToI420 gave %v %dx%d (%v) from %dx%d", out.Format, out.Width, out.Height, err, f.Width, f.Height)
	}
	return &out
}

type rgb struct{ r, g, b uint8 }

func TestKnownDepthsGiveKnownColours(t *testing.T) {
	m := newMap(t, Config{})
	// Near 0.3 m, Far 4 m: the 17 palette points are 3.7/16 m apart, so
	// 2.15 m is the middle point and 1.225 m the fifth.
	for d, want := range map[uint16]rgb{
		0:     {0, 0, 0},      // no data
		300:   {184, 32, 8},   // Near: dark red
		1225:  {255, 163, 35}, // orange
		2150:  {150, 250, 80}, // yellow-green, the middle
		4000:  {73, 88, 221},  // Far: blue
		3075:  {39, 215, 195}, // cyan
		1:     {184, 32, 8},   // 1 mm: clamped to Near
		65535: {73, 88, 221},  // 65.5 m: clamped to Far
	} {
		if r, g, b := m.RGB(d); (rgb{r, g, b}) != want {
			t.Errorf("RGB(%d mm) = %v, want %v", d, rgb{r, g, b}, want)
		}
	}
	// Between two points the colour is on the straight line: a quarter
	// of the way from the first point to the second.
	m = newMap(t, Config{Near: 1, Far: 2.6}) // points 0.1 m apart
	if r, g, b := m.RGB(1025); (rgb{r, g, b}) != (rgb{192, 39, 10}) {
		t.Errorf("RGB(1.025 m) = %v, want {192 39 10}", rgb{r, g, b})
	}
	p := Palette()
	if p[0].R != 184 || p[16].B != 221 || p[8].G != 250 || p[0].A != 255 {
		t.Errorf("Palette() = %v", p)
	}
}

// A frame of one depth is that depth's colour in I420, exactly as the
// capture package converts the colour, and 0 is video black.
func TestUniformFramesMatchTheConverter(t *testing.T) {
	m := newMap(t, Config{})
	for _, d := range []uint16{0, 1, 300, 777, 1225, 2150, 3999, 4000, 65535} {
		f := z16(6, 4, func(int) uint16 { return d })
		got, want := colourise(t, m, f), viaRGB(t, m, f)
		if string(got.Data) != string(want.Data) {
			t.Errorf("depth %d: I420 %v, want %v", d, got.Data[:1], want.Data[:1])
		}
		if d == 0 {
			y, u, v := capture.I420Planes(got)
			if y[0] != 16 || u[0] != 128 || v[0] != 128 {
				t.Errorf("no data gives Y %d U %d V %d, want black 16/128/128", y[0], u[0], v[0])
			}
		}
	}
}

// Any picture, of any size, converts as the capture package converts its
// colours: luma exactly, chroma within one step (the table averages each
// pixel's chroma where the converter averages the colours).
func TestPicturesMatchTheConverter(t *testing.T) {
	m := newMap(t, Config{Near: 0.2, Far: 3})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{64, 48}, {37, 23}, {1, 1}, {1, 5}, {5, 1}, {2, 3}} {
		w, h := sz[0], sz[1]
		f := z16(w, h, func(i int) uint16 {
			if rng.IntN(10) == 0 {
				return 0
			}
			return uint16(rng.IntN(5000))
		})
		got, want := colourise(t, m, f), viaRGB(t, m, f)
		ys := w * h
		for i := range got.Data {
			diff := int(got.Data[i]) - int(want.Data[i])
			if (i < ys && diff != 0) || diff < -1 || diff > 1 {
				t.Fatalf("%dx%d: byte %d (luma %v) is %d, converter gives %d", w, h, i, i < ys, got.Data[i], want.Data[i])
			}
		}
	}
}

// Beyond the range the colour stays at the end's colour.
func TestClampsOutsideTheRange(t *testing.T) {
	m := newMap(t, Config{Near: 0.5, Far: 2})
	nr, ng, nb := m.RGB(500)
	fr, fg, fb := m.RGB(2000)
	for _, d := range []uint16{1, 100, 499} {
		if r, g, b := m.RGB(d); r != nr || g != ng || b != nb {
			t.Errorf("RGB(%d mm) = %d,%d,%d, want the Near colour %d,%d,%d", d, r, g, b, nr, ng, nb)
		}
	}
	for _, d := range []uint16{2001, 3000, 65535} {
		if r, g, b := m.RGB(d); r != fr || g != fg || b != fb {
			t.Errorf("RGB(%d mm) = %d,%d,%d, want the Far colour %d,%d,%d", d, r, g, b, fr, fg, fb)
		}
	}
	if r, g, b := m.RGB(501); r == fr && g == fg && b == fb {
		t.Error("just inside Near shows the Far colour")
	}
	// The table agrees: a frame of out-of-range depths is the end colours.
	near := colourise(t, m, z16(2, 2, func(int) uint16 { return 500 }))
	under := colourise(t, m, z16(2, 2, func(int) uint16 { return 7 }))
	if string(near.Data) != string(under.Data) {
		t.Errorf("7 mm gives %v, Near gives %v", under.Data, near.Data)
	}
}

func hue(r, g, b uint8) float64 {
	R, G, B := float64(r), float64(g), float64(b)
	mx, mn := max(R, G, B), min(R, G, B)
	d := mx - mn
	var h float64
	switch {
	case d == 0:
		return math.NaN()
	case mx == R:
		h = math.Mod((G-B)/d, 6)
	case mx == G:
		h = (B-R)/d + 2
	default:
		h = (R-G)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h
}

// Hue rises with depth, from red at Near to blue at Far, so depths keep
// their order on screen.
func TestHueRisesWithDepth(t *testing.T) {
	m := newMap(t, Config{})
	prev := -1.0
	for d := uint16(300); d <= 4000; d++ {
		h := hue(m.RGB(d))
		if math.IsNaN(h) || h < prev-0.5 {
			t.Fatalf("hue %.1f° at %d mm after %.1f° nearer", h, d, prev)
		}
		prev = max(prev, h)
	}
	if h := hue(m.RGB(300)); h > 15 {
		t.Errorf("Near hue %.1f°, want red", h)
	}
	if h := hue(m.RGB(4000)); h < 220 || h > 250 {
		t.Errorf("Far hue %.1f°, want blue", h)
	}
	// No depth in range is near black: missing data stays distinct.
	for d := uint16(300); d <= 4000; d += 10 {
		r, g, b := m.RGB(d)
		if y, _, _ := yuv(int32(r), int32(g), int32(b)); y < 60 {
			t.Fatalf("depth %d mm has luma %d, too near black", d, y)
		}
	}
}

func TestConfig(t *testing.T) {
	m := newMap(t, Config{})
	if c := m.Config(); c.Near != 0.3 || c.Far != 4 || c.Unit != 0.001 {
		t.Errorf("defaults %+v", c)
	}
	// A D405 counts tenths of a millimetre.
	m = newMap(t, Config{Unit: 0.0001, Near: 0.1, Far: 0.5})
	if r, g, b := m.RGB(1000); (rgb{r, g, b}) != (rgb{184, 32, 8}) {
		t.Errorf("0.1 m in 0.1 mm steps: %v", rgb{r, g, b})
	}
	if v := m.Value(0.5); v != 5000 {
		t.Errorf("Value(0.5 m) = %d, want 5000", v)
	}
	if v := m.Value(100); v != 65535 {
		t.Errorf("Value(100 m) = %d, want 65535", v)
	}
	for _, tc := range []struct {
		cfg  Config
		says string
	}{
		{Config{Near: 2, Far: 1}, "Near 2 m is not nearer than Far 1 m"},
		{Config{Near: 1, Far: 1}, "not nearer"},
		{Config{Near: 5}, "Near 5 m is not nearer than Far 4 m"},
		{Config{Far: 0.2}, "Far 0.2 m"},
		{Config{Near: -1}, "Near -1"},
		{Config{Far: math.NaN()}, "Far NaN"},
		{Config{Far: math.Inf(1)}, "Far +Inf"},
		{Config{Unit: -0.001}, "Unit"},
	} {
		_, err := NewMap(tc.cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("NewMap(%+v): %v, want ErrConfig saying %q", tc.cfg, err, tc.says)
		}
	}
}

func TestToI420RefusesOtherFrames(t *testing.T) {
	m := newMap(t, Config{})
	for _, tc := range []struct {
		f    capture.VideoFrame
		says string
		bad  bool
	}{
		{capture.VideoFrame{Format: capture.FormatYUYV, Width: 4, Height: 2, Data: make([]byte, 16)}, "YUYV", false},
		{capture.VideoFrame{Format: capture.FormatI420, Width: 4, Height: 2, Data: make([]byte, 12)}, "I420", false},
		{capture.VideoFrame{Format: capture.FormatZ16, Width: 4, Height: 2, Data: make([]byte, 15)}, "needs 16 bytes", true},
		{capture.VideoFrame{Format: capture.FormatZ16, Width: 0, Height: 2}, "0x2", true},
	} {
		dst := capture.VideoFrame{Data: []byte{1, 2, 3}}
		err := m.ToI420(&dst, &tc.f)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.says) || errors.Is(err, capture.ErrBadFrame) != tc.bad {
			t.Errorf("%v %dx%d: %v, want ErrFormat saying %q", tc.f.Format, tc.f.Width, tc.f.Height, err, tc.says)
		}
		if string(dst.Data) != "\x01\x02\x03" {
			t.Errorf("%v: dst changed on error", tc.f.Format)
		}
	}
}

// Any bytes at any small size either convert to a valid I420 frame whose
// luma is each pixel's colour, or fail with ErrFormat; nothing panics.
func FuzzToI420(f *testing.F) {
	f.Add(uint8(4), uint8(2), []byte("\x00\x00\x2c\x01\x66\x08\xa0\x0f\xff\xff\x01\x00\x00\x10\x20\x30"))
	f.Add(uint8(3), uint8(3), make([]byte, 18))
	f.Add(uint8(0), uint8(1), []byte{})
	m := newMap(f, Config{})
	f.Fuzz(func(t *testing.T, w, h uint8, data []byte) {
		src := &capture.VideoFrame{Format: capture.FormatZ16, Width: int(w % 64), Height: int(h % 64), Data: data}
		var dst capture.VideoFrame
		if err := m.ToI420(&dst, src); err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if err := dst.Validate(); err != nil || dst.Width != src.Width || dst.Height != src.Height {
			t.Fatalf("gave %v %dx%d: %v", dst.Format, dst.Width, dst.Height, err)
		}
		y, _, _ := capture.I420Planes(&dst)
		for i := range y {
			r, g, b := m.RGB(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
			if want, _, _ := yuv(int32(r), int32(g), int32(b)); y[i] != want {
				t.Fatalf("pixel %d: luma %d, want %d", i, y[i], want)
			}
		}
	})
}
