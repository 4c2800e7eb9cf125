// Package vpxtest makes synthetic moving pictures and measures picture
// quality, for the tests and benchmarks of the VP8 packages.
package vpxtest

import (
	"math"
	"syscall"
	"time"

	"github.com/avlink/avlink/capture"
)

// Picture returns frame i of a deterministic moving I420 test picture of
// w×h: a textured background (smooth waves plus fine grain, like a real
// scene seen by a camera) panning one pixel per frame to the right, and a
// bright striped square moving diagonally by three and two pixels per
// frame, over slowly changing colours.
func Picture(w, h, i int) *capture.VideoFrame { return picture(w, h, i, 1) }

// SmoothPicture is [Picture] without the fine grain: closer to a synthetic
// test pattern than to a camera, and cheaper to encode.
func SmoothPicture(w, h, i int) *capture.VideoFrame { return picture(w, h, i, 0) }

func picture(w, h, i int, grainAmp float64) *capture.VideoFrame {
	cw, ch := (w+1)/2, (h+1)/2
	data := make([]byte, w*h+2*cw*ch)
	// Tables keep this cheap enough for benchmarks and race-enabled tests.
	n := w + h + i + 1
	sinA, sinB := make([]float64, n), make([]float64, n)
	for k := range n {
		sinA[k] = 50 * math.Sin(float64(k)/23)
		sinB[k] = 30 * math.Sin(float64(k)/9)
	}
	sx, sy := (i*3)%w, (i*2)%h
	side := max(min(w, h)/6, 2)
	for y := range h {
		row := data[y*w : (y+1)*w]
		cy := math.Cos(float64(y) / 17)
		for x := range w {
			px := x + i
			v := 128 + sinA[px]*cy + sinB[px+y] + grainAmp*grain(px, y)
			if x >= sx && x < sx+side && y >= sy && y < sy+side {
				v = 235 - float64((x-sx)/8%2)*40
			}
			row[x] = clamp(v)
		}
	}
	u := data[w*h : w*h+cw*ch]
	v := data[w*h+cw*ch:]
	for y := range ch {
		vy := clamp(128 + 40*math.Cos(float64(y)/27+float64(i)/70))
		for x := range cw {
			u[y*cw+x] = clamp(128 + 40*math.Sin(float64(x+i/2)/31+float64(i)/50))
			v[y*cw+x] = vy
		}
	}
	return &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h, Data: data}
}

// grain is a fixed pseudo-random texture of ±12 levels attached to the
// scene, so it pans with the background.
func grain(x, y int) float64 {
	k := uint32(x)*0x9e3779b1 ^ uint32(y)*0x85ebca77
	k ^= k >> 15
	k *= 0x2c1b3c6d
	k ^= k >> 12
	return float64(k%25) - 12
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

// CPUTime returns the user plus system CPU time the process has used so
// far. Benchmarks divide its growth by the frame count to report CPU per
// frame, which, unlike wall time, does not grow when other processes
// compete for the cores.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
