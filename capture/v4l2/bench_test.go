package v4l2

import (
	"bytes"
	"context"
	"image/jpeg"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
)

// reportFrame adds the cost per frame in milliseconds and as a share of
// one core at 30 frames per second.
func reportFrame(b *testing.B) {
	per := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(per*1e3, "ms/frame")
	b.ReportMetric(per*30*100, "%core@30fps")
}

// cameraYUYV is the grainy, camera-like test picture as a camera sends
// it uncompressed.
func cameraYUYV(w, h int) []byte {
	return devicePicture(vpxtest.Picture(w, h, 0), YUYV, rowBytes(YUYV, w))
}

// BenchmarkConvertYUYV640x480 is the converter alone: YUYV to I420.
func BenchmarkConvertYUYV640x480(b *testing.B) {
	src := &capture.VideoFrame{Format: capture.FormatYUYV, Width: 640, Height: 480, Data: cameraYUYV(640, 480)}
	var dst capture.VideoFrame
	for b.Loop() {
		if err := capture.ToI420(&dst, src); err != nil {
			b.Fatal(err)
		}
	}
	reportFrame(b)
}

// BenchmarkDecodeMJPEG640x480 decodes an MJPEG frame without Huffman
// tables, as UVC cameras send it, to I420: inserting the tables,
// image/jpeg's decode, and the conversion. "grainy-422" is the camera-like
// picture as a camera encodes it (4:2:2, 92 KB); "smooth-420" the same
// scene without grain from image/jpeg's encoder (4:2:0, quality 90), the
// cheap end of what cameras send.
func BenchmarkDecodeMJPEG640x480(b *testing.B) {
	smooth := vpxtest.SmoothPicture(640, 480, 0)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"grainy-422", stripDHT(cameraJPEG(b))},
		{"smooth-420", stripDHT(devicePicture(smooth, MJPEG, 0))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var scratch []byte
			var dst capture.VideoFrame
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				if err := decodeMJPEG(&dst, tc.data, 640, 480, &scratch); err != nil {
					b.Fatal(err)
				}
			}
			reportFrame(b)
		})
	}
}

// BenchmarkDecodeMJPEG640x480JPEGOnly is image/jpeg's share of the
// grainy 4:2:2 frame.
func BenchmarkDecodeMJPEG640x480JPEGOnly(b *testing.B) {
	data := cameraJPEG(b)
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	reportFrame(b)
}

// BenchmarkReadVideo is the whole camera path per 640x480 frame through
// the fake device: the driver's buffer dequeued, converted or decoded to
// a new I420 frame, and queued again. The fake's buffers hold a
// camera-like picture filled once, so no frame copying is counted that a
// real driver would do by DMA.
func BenchmarkReadVideo(b *testing.B) {
	jpg := stripDHT(cameraJPEG(b))
	yuyv := cameraYUYV(640, 480)
	for _, tc := range []struct {
		name string
		f    FourCC
		data []byte
	}{{"YUYV", YUYV, yuyv}, {"MJPEG", MJPEG, jpg}} {
		b.Run(tc.name, func(b *testing.B) {
			d := &fakeDevice{path: "/dev/video0", card: "bench", driver: "fake", static: true, script: make(chan fakeStep),
				formats: []fakeFormat{{fourcc: tc.f, sizes: []fakeSize{{640, 480, []int{30}}}}},
				picture: func(uint32, FourCC, int, int, int) []byte { return tc.data }}
			c, err := open(newFakeSystem(d), d.path, Config{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for b.Loop() {
				d.step(b, fakeStep{kind: "deliver", n: 1})
				if _, err := c.ReadVideo(ctx); err != nil {
					b.Fatal(err)
				}
			}
			reportFrame(b)
		})
	}
}
