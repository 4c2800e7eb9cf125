package depth

import (
	"math/rand/v2"
	"testing"

	"github.com/avlink/avlink/capture"
)

// scene is a camera-like depth picture: a floor that recedes towards the
// top, a box in front, speckle noise and the band of missing depth a
// stereo camera has at its left edge.
func scene(w, h int) *capture.VideoFrame {
	rng := rand.New(rand.NewPCG(3, 4))
	return z16(w, h, func(i int) uint16 {
		x, y := i%w, i/w
		switch {
		case x < w/12 || rng.IntN(50) == 0:
			return 0
		case x > w/3 && x < w/2 && y > h/3:
			return uint16(900 + rng.IntN(8))
		}
		return uint16(4500 - 3800*y/h + rng.IntN(20))
	})
}

func benchColourise(b *testing.B, w, h int) {
	m := newMap(b, Config{})
	src := scene(w, h)
	var dst capture.VideoFrame
	b.SetBytes(int64(len(src.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.ToI420(&dst, src); err != nil {
			b.Fatal(err)
		}
	}
}

// ns/op is the time to colourise one frame.
func BenchmarkColourise640x480(b *testing.B) { benchColourise(b, 640, 480) }
func BenchmarkColourise848x480(b *testing.B) { benchColourise(b, 848, 480) }

// NewMap's table is built once per Colorizer.
func BenchmarkNewMap(b *testing.B) {
	for b.Loop() {
		if _, err := NewMap(Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
