package stamp

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
)

func TestCRC16CheckValue(t *testing.T) {
	if got := CRC16([]byte("123456789")); got != 0x29B1 {
		t.Fatalf("CRC16(\"123456789\") = %#04x, want 0x29b1", got)
	}
}

// picture returns an I420 frame filled with a busy pattern.
func picture(w, h int, seed uint64) *capture.VideoFrame {
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h,
		Data: make([]byte, capture.FormatI420.FrameSize(w, h))}
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range f.Data {
		f.Data[i] = byte(rng.IntN(256))
	}
	return f
}

func TestWriteReadRoundTrip(t *testing.T) {
	when := time.UnixMilli(1764000000123)
	for _, size := range [][2]int{{640, 480}, {1280, 720}, {320, 240}, {40, 15}, {41, 17}, {81, 31}} {
		for _, counter := range []uint16{0, 1, 0xBEEF, 0xFFFF} {
			f := picture(size[0], size[1], uint64(counter))
			if err := Write(f, when, counter); err != nil {
				t.Fatal(err)
			}
			got, c, err := Read(f)
			if err != nil {
				t.Fatalf("%dx%d: %v", size[0], size[1], err)
			}
			if !got.Equal(when) || c != counter {
				t.Fatalf("%dx%d: read %v #%d, wrote %v #%d", size[0], size[1], got, c, when, counter)
			}
		}
	}
}

func TestLayout(t *testing.T) {
	f := picture(650, 480, 1) // 650/40 = 16: 10 columns right of the cells
	if err := Write(f, time.UnixMilli(0), 0); err != nil {
		t.Fatal(err)
	}
	y, u, _ := capture.I420Planes(f)
	cw, ch := CellSize(650, 480)
	if cw != 16 || ch != 32 {
		t.Fatalf("cell %dx%d", cw, ch)
	}
	for row := 0; row < 2*ch; row++ {
		for x := 0; x < 650; x++ {
			p := y[row*650+x]
			if x >= 40*cw && p != 0 {
				t.Fatalf("pixel %d,%d right of the cells is %d, want black", x, row, p)
			}
			if p != 0 && p != 255 {
				t.Fatalf("pixel %d,%d in the band is %d", x, row, p)
			}
		}
	}
	if u[0] != 128 {
		t.Errorf("chroma in the band is %d, want 128", u[0])
	}
	// Time 0, counter 0: the first 64 cells are black, the CRC of eight
	// zero bytes (0x84C0) fills the last 16, most significant bit first.
	crc := CRC16(make([]byte, 8))
	for bit := 0; bit < Bits; bit++ {
		want := byte(0)
		if bit >= 64 && crc&(0x8000>>(bit-64)) != 0 {
			want = 255
		}
		row, col := bit/Columns, bit%Columns
		if got := y[(row*ch+ch/2)*650+col*cw+cw/2]; got != want {
			t.Fatalf("cell %d is %d, want %d", bit, got, want)
		}
	}
}

// degrade simulates lossy coding: a 3×3 box blur, a brightness squeeze
// toward grey and noise.
func degrade(f *capture.VideoFrame, seed uint64) {
	w, h := f.Width, f.Height
	y, _, _ := capture.I420Planes(f)
	src := append([]byte(nil), y...)
	rng := rand.New(rand.NewPCG(seed, 9))
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			sum, n := 0, 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					qx, qy := px+dx, py+dy
					if qx >= 0 && qy >= 0 && qx < w && qy < h {
						sum += int(src[qy*w+qx])
						n++
					}
				}
			}
			v := 40 + (sum/n)*170/255 + rng.IntN(41) - 20
			y[py*w+px] = byte(min(255, max(0, v)))
		}
	}
}

func TestReadSurvivesDegradation(t *testing.T) {
	when := time.UnixMilli(1764000000999)
	for i := range 20 {
		f := picture(640, 480, uint64(i))
		if err := Write(f, when, uint16(i)); err != nil {
			t.Fatal(err)
		}
		degrade(f, uint64(i))
		got, c, err := Read(f)
		if err != nil || !got.Equal(when) || c != uint16(i) {
			t.Fatalf("frame %d: %v #%d %v", i, got, c, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	grey := &capture.VideoFrame{Format: capture.FormatI420, Width: 64, Height: 48,
		Data: make([]byte, capture.FormatI420.FrameSize(64, 48))}
	for i := range grey.Data {
		grey.Data[i] = 128
	}
	if _, _, err := Read(grey); !errors.Is(err, ErrLowContrast) {
		t.Errorf("grey frame: %v, want ErrLowContrast", err)
	}
	f := picture(640, 480, 3)
	if err := Write(f, time.Now(), 7); err != nil {
		t.Fatal(err)
	}
	// Flip cell 3 (a time bit) to its opposite.
	y, _, _ := capture.I420Planes(f)
	for row := 0; row < 32; row++ {
		for x := 3 * 16; x < 4*16; x++ {
			y[row*640+x] ^= 0xFF
		}
	}
	if _, _, err := Read(f); !errors.Is(err, ErrChecksum) {
		t.Errorf("damaged stamp: %v, want ErrChecksum", err)
	}
	small := &capture.VideoFrame{Format: capture.FormatI420, Width: 39, Height: 20,
		Data: make([]byte, capture.FormatI420.FrameSize(39, 20))}
	if err := Write(small, time.Now(), 0); !errors.Is(err, ErrFrameTooSmall) {
		t.Errorf("39 pixels wide: %v, want ErrFrameTooSmall", err)
	}
	rgb := &capture.VideoFrame{Format: capture.FormatRGB24, Width: 64, Height: 48, Data: make([]byte, 3*64*48)}
	if _, _, err := Read(rgb); !errors.Is(err, ErrNotI420) {
		t.Errorf("RGB frame: %v, want ErrNotI420", err)
	}
}

func BenchmarkRead640x480(b *testing.B) {
	f := picture(640, 480, 1)
	_ = Write(f, time.Now(), 1)
	for b.Loop() {
		if _, _, err := Read(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite640x480(b *testing.B) {
	f := picture(640, 480, 1)
	now := time.Now()
	for b.Loop() {
		_ = Write(f, now, 1)
	}
}
