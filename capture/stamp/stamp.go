package stamp

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/avlink/avlink/capture"
)

const (
	// Columns and Rows are the stamp's cells across and down.
	Columns = 40
	Rows    = 2
	// Bits is the number of cells, one bit each.
	Bits = Columns * Rows
	// MinContrast is the smallest difference in mean luma between the
	// darkest and brightest cells for the stamp to be read.
	MinContrast = 48
)

// CellSize returns the width and height of one stamp cell in a frame of
// the given size: W/40 by H/15.
func CellSize(width, height int) (cw, ch int) { return width / 40, height / 15 }

// Write stamps the top of an I420 frame with the capture time t (to the
// millisecond) and counter. It paints the band's luma and sets its chroma
// to neutral grey, so the cells stay black and white after coding.
func Write(f *capture.VideoFrame, t time.Time, counter uint16) error {
	if err := check(f); err != nil {
		return err
	}
	var msg [10]byte
	put48(msg[:6], uint64(t.UnixMilli()))
	binary.BigEndian.PutUint16(msg[6:8], counter)
	binary.BigEndian.PutUint16(msg[8:10], CRC16(msg[:8]))

	w := f.Width
	cw, ch := CellSize(f.Width, f.Height)
	y, u, v := capture.I420Planes(f)
	for row := 0; row < 2*ch; row++ {
		line := y[row*w : row*w+w]
		clear(line[Columns*cw:])
		br := row / ch
		for col := 0; col < Columns; col++ {
			bit := br*Columns + col
			val := byte(0)
			if msg[bit/8]&(0x80>>(bit%8)) != 0 {
				val = 255
			}
			cell := line[col*cw : col*cw+cw]
			for i := range cell {
				cell[i] = val
			}
		}
	}
	cwid := (w + 1) / 2
	for i := 0; i < ch*cwid; i++ {
		u[i], v[i] = 128, 128
	}
	return nil
}

// Read returns the capture time and counter stamped on an I420 frame, for
// example a decoded one. It fails with [ErrLowContrast] on a frame without
// a stamp and [ErrChecksum] on a damaged one.
func Read(f *capture.VideoFrame) (time.Time, uint16, error) {
	if err := check(f); err != nil {
		return time.Time{}, 0, err
	}
	y, _, _ := capture.I420Planes(f)
	return ReadLuma(y, f.Width, f.Width, f.Height)
}

// ReadLuma is [Read] on a bare luma plane with the given row stride, for
// decoders that hand out padded planes.
func ReadLuma(luma []byte, stride, width, height int) (time.Time, uint16, error) {
	if width < Columns || height < 15 {
		return time.Time{}, 0, fmt.Errorf("%w: %dx%d", ErrFrameTooSmall, width, height)
	}
	cw, ch := CellSize(width, height)
	if stride < width || len(luma) < stride*(2*ch-1)+Columns*cw {
		return time.Time{}, 0, fmt.Errorf("%w: luma plane of %d bytes for %dx%d, stride %d", capture.ErrBadFrame, len(luma), width, height, stride)
	}
	var means [Bits]float64
	lo, hi := 256.0, -1.0
	for bit := range means {
		row, col := bit/Columns, bit%Columns
		x0, y0 := col*cw+cw/4, row*ch+ch/4
		x1, y1 := x0+max(1, cw/2), y0+max(1, ch/2)
		sum := 0
		for yy := y0; yy < y1; yy++ {
			for _, p := range luma[yy*stride+x0 : yy*stride+x1] {
				sum += int(p)
			}
		}
		m := float64(sum) / float64((x1-x0)*(y1-y0))
		means[bit] = m
		lo, hi = min(lo, m), max(hi, m)
	}
	if hi-lo < MinContrast {
		return time.Time{}, 0, fmt.Errorf("%w: darkest cell %.0f, brightest %.0f", ErrLowContrast, lo, hi)
	}
	thr := (lo + hi) / 2
	var msg [10]byte
	for bit, m := range means {
		if m > thr {
			msg[bit/8] |= 0x80 >> (bit % 8)
		}
	}
	if got, want := binary.BigEndian.Uint16(msg[8:10]), CRC16(msg[:8]); got != want {
		return time.Time{}, 0, fmt.Errorf("%w: stamp says %#04x, contents give %#04x", ErrChecksum, got, want)
	}
	ms := get48(msg[:6])
	return time.UnixMilli(int64(ms)), binary.BigEndian.Uint16(msg[6:8]), nil
}

func check(f *capture.VideoFrame) error {
	if f.Format != capture.FormatI420 {
		return fmt.Errorf("%w: %v", ErrNotI420, f.Format)
	}
	if f.Width < Columns || f.Height < 15 {
		return fmt.Errorf("%w: %dx%d", ErrFrameTooSmall, f.Width, f.Height)
	}
	return f.Validate()
}

func put48(b []byte, v uint64) {
	for i := 5; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

func get48(b []byte) uint64 {
	var v uint64
	for _, c := range b[:6] {
		v = v<<8 | uint64(c)
	}
	return v
}

// CRC16 returns the CRC-16/CCITT-FALSE of b: polynomial 0x1021, initial
// value 0xFFFF, no reflection, no final XOR. Its check value, for
// "123456789", is 0x29B1.
func CRC16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
