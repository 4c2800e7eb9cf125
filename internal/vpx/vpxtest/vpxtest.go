// Package vpxtest makes synthetic moving pictures and measures picture
// quality, for the tests and benchmarks of the VP8 packages.
package vpxtest

import (
	"math"

	"github.com/avlink/avlink/capture"
)

// Picture returns frame i of a deterministic moving I420 test picture of
// w×h: a smooth textured background panning one pixel per frame to the
// right, and a bright square with a sharp edge moving diagonally by three
// pixels per frame, over slowly changing colours. It moves like a camera
// panning across a scene with an object crossing it.
func Picture(w, h, i int) *capture.VideoFrame {
	cw, ch := (w+1)/2, (h+1)/2
	data := make([]byte, w*h+2*cw*ch)
	sx, sy := (i*3)%w, (i*2)%h
	side := max(min(w, h)/6, 2)
	for y := range h {
		row := data[y*w : (y+1)*w]
		for x := range w {
			px := float64(x + i)
			v := 128 + 50*math.Sin(px/23)*math.Cos(float64(y)/17) + 30*math.Sin((px+float64(y))/9)
			if x >= sx && x < sx+side && y >= sy && y < sy+side {
				v = 235 - float64((x-sx)/8%2)*40
			}
			row[x] = clamp(v)
		}
	}
	u := data[w*h : w*h+cw*ch]
	v := data[w*h+cw*ch:]
	for y := range ch {
		for x := range cw {
			u[y*cw+x] = clamp(128 + 40*math.Sin(float64(x+i/2)/31+float64(i)/50))
			v[y*cw+x] = clamp(128 + 40*math.Cos(float64(y)/27+float64(i)/70))
		}
	}
	return &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h, Data: data}
}

// PSNR returns the peak signal-to-noise ratio in dB between two buffers
// of equal length (for example two I420 frames), capped at 100 dB for
// identical buffers.
func PSNR(a, b []byte) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var sse float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		sse += d * d
	}
	if sse == 0 {
		return 100
	}
	mse := sse / float64(len(a))
	return 10 * math.Log10(255*255/mse)
}

func clamp(v float64) byte {
	return byte(min(max(math.Round(v), 0), 255))
}
