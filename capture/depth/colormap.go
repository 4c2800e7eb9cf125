package depth

import (
	"fmt"
	"image/color"
	"math"

	"github.com/avlink/avlink/capture"
)

// palette is the colour map's control points, nearest first: Turbo at
// 0.90, 0.85, … 0.10, as 8-bit sRGB.
var palette = [...][3]uint8{
	{184, 32, 8}, {217, 59, 16}, {244, 92, 23}, {255, 128, 29}, {255, 163, 35},
	{249, 194, 41}, {223, 220, 50}, {189, 239, 62}, {150, 250, 80}, {111, 254, 103},
	{78, 249, 131}, {53, 235, 162}, {39, 215, 195}, {38, 189, 225}, {47, 158, 245},
	{62, 123, 247}, {73, 88, 221},
}

// Palette returns the colour map's 17 control points, the colour at Near
// first and the colour at Far last, evenly spaced over the range: for a
// legend beside the video.
func Palette() [len(palette)]color.RGBA {
	var out [len(palette)]color.RGBA
	for i, p := range palette {
		out[i] = color.RGBA{R: p[0], G: p[1], B: p[2], A: 255}
	}
	return out
}

// Map is the colour map for one [Config], precomputed for every Z16
// value. It is read-only once made, so any number of goroutines may use
// it.
type Map struct {
	cfg Config
	// lut holds, per Z16 value, the pixel's BT.601 limited-range Y in
	// bits 24–31, V in bits 11–18 and U in bits 0–7: four entries added
	// together give the sums of four U and four V values in separate
	// 11-bit fields, which is 4:2:0 chroma before the division.
	lut [1 << 16]uint32
}

// NewMap checks cfg and builds its table. It fails with an error wrapping
// ErrConfig when Near is not nearer than Far or a value is negative or
// not finite.
func NewMap(cfg Config) (*Map, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Map{cfg: cfg}
	for d := range len(m.lut) {
		r, g, b := m.RGB(uint16(d))
		y, u, v := yuv(int32(r), int32(g), int32(b))
		m.lut[d] = uint32(u) | uint32(v)<<11 | uint32(y)<<24
	}
	return m, nil
}

// Config returns the map's configuration with its defaults filled in.
func (m *Map) Config() Config { return m.cfg }

// RGB returns the sRGB colour the map gives depth value d (in Config.Unit
// steps): black for 0, the Near colour at or nearer than Near, the Far
// colour at or beyond Far, and in between the palette's colours joined
// by straight lines. It computes the colour; the I420 conversion uses the
// table made from it.
func (m *Map) RGB(d uint16) (r, g, b uint8) {
	if d == 0 {
		return 0, 0, 0
	}
	t := (float64(d)*m.cfg.Unit - m.cfg.Near) / (m.cfg.Far - m.cfg.Near)
	t = min(max(t, 0), 1)
	p := t * float64(len(palette)-1)
	i := min(int(p), len(palette)-2)
	f := p - float64(i)
	a, z := palette[i], palette[i+1]
	lerp := func(k int) uint8 {
		return uint8(math.Round(float64(a[k]) + (float64(z[k])-float64(a[k]))*f))
	}
	return lerp(0), lerp(1), lerp(2)
}

// Value returns the Z16 value for a distance in metres, rounded to the
// nearest step and limited to 1..65535: the inverse of the unit scaling,
// for tests and legends.
func (m *Map) Value(metres float64) uint16 {
	v := math.Round(metres / m.cfg.Unit)
	return uint16(min(max(v, 1), 65535))
}

// yuv converts one sRGB pixel to BT.601 limited range with the integer
// coefficients capture.ToI420 uses.
func yuv(r, g, b int32) (y, u, v uint8) {
	y = uint8((66*r+129*g+25*b+128)>>8 + 16)
	u = uint8((-38*r-74*g+112*b+128)>>8 + 128)
	v = uint8((112*r-94*g-18*b+128)>>8 + 128)
	return y, u, v
}

// ToI420 colourises a [capture.FormatZ16] frame into dst as I420, reusing
// dst.Data when it is large enough. dst takes src's size and Time. Each
// pixel's luma is its colour's; each 2×2 block's chroma is the average of
// its four colours' chroma (within one step of what capture.ToI420 gives
// for the same colours as RGB). A frame that is not Z16, or whose buffer
// is shorter than its size needs, fails with an error wrapping ErrFormat.
//
// dst and src must not share a buffer.
func (m *Map) ToI420(dst, src *capture.VideoFrame) error {
	if src.Format != capture.FormatZ16 {
		return fmt.Errorf("%w: got a %v frame; open the camera's depth node with Z16", ErrFormat, src.Format)
	}
	if err := src.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	w, h := src.Width, src.Height
	n := capture.FormatI420.FrameSize(w, h)
	if cap(dst.Data) < n {
		dst.Data = make([]byte, n)
	}
	dst.Data = dst.Data[:n]
	dst.Format, dst.Width, dst.Height, dst.Time = capture.FormatI420, w, h, src.Time
	m.convert(dst.Data, src.Data, w, h)
	return nil
}

// convert fills the I420 buffer dst from w×h little-endian depth values.
func (m *Map) convert(dst, src []byte, w, h int) {
	lut := &m.lut
	cw, ch := (w+1)/2, (h+1)/2
	yp := dst[:w*h]
	up := dst[w*h : w*h+cw*ch]
	vp := dst[w*h+cw*ch : w*h+2*cw*ch]
	stride := 2 * w
	pairs := w / 2
	for y := 0; y < h; y += 2 {
		y1 := min(y+1, h-1)
		s0 := src[y*stride : y*stride+stride]
		s1 := src[y1*stride : y1*stride+stride]
		d0 := yp[y*w : y*w+w]
		d1 := yp[y1*w : y1*w+w]
		uo := up[(y/2)*cw : (y/2)*cw+cw]
		vo := vp[(y/2)*cw : (y/2)*cw+cw]
		for k := range pairs {
			a := s0[4*k : 4*k+4 : 4*k+4]
			b := s1[4*k : 4*k+4 : 4*k+4]
			e00 := lut[uint16(a[0])|uint16(a[1])<<8]
			e01 := lut[uint16(a[2])|uint16(a[3])<<8]
			e10 := lut[uint16(b[0])|uint16(b[1])<<8]
			e11 := lut[uint16(b[2])|uint16(b[3])<<8]
			o0 := d0[2*k : 2*k+2 : 2*k+2]
			o1 := d1[2*k : 2*k+2 : 2*k+2]
			o0[0], o0[1] = byte(e00>>24), byte(e01>>24)
			o1[0], o1[1] = byte(e10>>24), byte(e11>>24)
			s := e00 + e01 + e10 + e11
			uo[k] = byte((s&0x7ff + 2) >> 2)
			vo[k] = byte((s>>11&0x7ff + 2) >> 2)
		}
		if w%2 == 1 {
			// The last column stands in for its missing neighbour.
			x := w - 1
			e0 := lut[uint16(s0[2*x])|uint16(s0[2*x+1])<<8]
			e1 := lut[uint16(s1[2*x])|uint16(s1[2*x+1])<<8]
			d0[x], d1[x] = byte(e0>>24), byte(e1>>24)
			s := 2 * (e0 + e1)
			uo[pairs] = byte((s&0x7ff + 2) >> 2)
			vo[pairs] = byte((s>>11&0x7ff + 2) >> 2)
		}
	}
}
