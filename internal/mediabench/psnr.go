package mediabench

import (
	"fmt"
	"math"

	"github.com/avlink/avlink/capture"
)

// PSNR holds the peak signal-to-noise ratio of a decoded frame against
// the frame that was sent, in dB: for the luma plane and for all three
// planes together (every sample weighted alike). Identical planes give
// +Inf.
type PSNR struct {
	Y, All float64
}

// ComparePSNR returns the PSNR of got against want, two I420 frames of
// the same size.
func ComparePSNR(want, got *capture.VideoFrame) (PSNR, error) {
	if want.Format != capture.FormatI420 || got.Format != capture.FormatI420 ||
		want.Width != got.Width || want.Height != got.Height {
		return PSNR{}, fmt.Errorf("%w: %dx%d %v against %dx%d %v", ErrFrameMismatch,
			want.Width, want.Height, want.Format, got.Width, got.Height, got.Format)
	}
	if err := want.Validate(); err != nil {
		return PSNR{}, err
	}
	if err := got.Validate(); err != nil {
		return PSNR{}, err
	}
	wy, _, _ := capture.I420Planes(want)
	gy, _, _ := capture.I420Planes(got)
	n := capture.FormatI420.FrameSize(want.Width, want.Height)
	sy := sse(wy, gy)
	all := sy + sse(want.Data[len(wy):n], got.Data[len(gy):n])
	return PSNR{Y: psnrOf(sy, len(wy)), All: psnrOf(all, n)}, nil
}

func sse(a, b []byte) uint64 {
	var s uint64
	for i := range a {
		d := int(a[i]) - int(b[i])
		s += uint64(d * d)
	}
	return s
}

func psnrOf(sse uint64, n int) float64 {
	if sse == 0 {
		return math.Inf(1)
	}
	mse := float64(sse) / float64(n)
	return 10 * math.Log10(255*255/mse)
}
