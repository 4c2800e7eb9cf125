//go:build cgo

package v4l2

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/synth"
	capvp8 "github.com/avlink/avlink/capture/vp8"
	"github.com/avlink/avlink/internal/procstat"
	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
	"github.com/avlink/avlink/rtclink"
)

// The environment that makes TestSenderChild the sending process of
// BenchmarkSenderCPU: the source ("YUYV", "MJPEG" or "pattern") and the
// signaling URL.
const (
	senderSourceEnv = "AVLINK_V4L2_BENCH_SOURCE"
	senderSignalEnv = "AVLINK_V4L2_BENCH_SIGNAL"
	benchRoom       = "v4l2-bench"
)

// BenchmarkSenderCPU measures the CPU of a process that sends 640x480 at
// 30 fps as the robot does: a camera (the fake device, paced by a real
// ticker and going through the Camera's own code: dequeue, YUYV
// conversion or MJPEG decode) or, for comparison, the stamped test
// pattern; VP8 at 500 kbit/s; a real rtclink session to a receiver in
// this process, through the real signaling server on 127.0.0.1. The
// sender is a child process, so its CPU (utime+stime from /proc) is its
// own. One 10 s window is measured after 2 s of warm-up, whatever
// -benchtime says.
func BenchmarkSenderCPU(b *testing.B) {
	for _, src := range []string{"YUYV", "MJPEG", "pattern"} {
		b.Run(src, func(b *testing.B) {
			cpu, fps := measureSender(b, src, 2*time.Second, 10*time.Second)
			b.ReportMetric(cpu, "%core")
			b.ReportMetric(fps, "frames/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func measureSender(b *testing.B, src string, warm, window time.Duration) (cpuPct, fps float64) {
	url := rtctest.WS(rtctest.SignalServer(b, nil))
	video := rtctest.NewVideoCollector()
	recv, err := rtclink.New(rtclink.Config{
		Signaler: rtctest.Dial(b, url, benchRoom), ReceiveVideo: rtctest.VideoReceiver(video),
		IncludeLoopback: true, Logger: rtctest.Logger(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer recv.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestSenderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), senderSourceEnv+"="+src, senderSignalEnv+"="+url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			b.Errorf("the sending process did not exit; its log:\n%s", stderr.String())
		}
	}()

	video.WaitFirst(b, 30*time.Second)
	time.Sleep(warm)
	pid := cmd.Process.Pid
	s0, err := procstat.ReadStat(pid)
	if err != nil {
		b.Fatal(err)
	}
	f0, _, _, _ := video.Count()
	t0 := time.Now()
	time.Sleep(window)
	s1, err := procstat.ReadStat(pid)
	if err != nil {
		b.Fatal(err)
	}
	f1, _, w, h := video.Count()
	wall := time.Since(t0)
	if w != 640 || h != 480 {
		b.Fatalf("received %dx%d", w, h)
	}
	b.Logf("%s: sender CPU %v over %v, %d frames decoded", src, s1.CPU()-s0.CPU(), wall.Round(time.Millisecond), f1-f0)
	return 100 * (s1.CPU() - s0.CPU()).Seconds() / wall.Seconds(), float64(f1-f0) / wall.Seconds()
}

// TestSenderChild is the sending process of BenchmarkSenderCPU; it does
// nothing unless that benchmark started it.
func TestSenderChild(t *testing.T) {
	src := os.Getenv(senderSourceEnv)
	if src == "" {
		t.Skip("run by BenchmarkSenderCPU")
	}
	var source capture.VideoSource
	switch src {
	case "pattern":
		p, err := synth.NewPattern(synth.PatternConfig{})
		if err != nil {
			t.Fatal(err)
		}
		source = p
	case "YUYV", "MJPEG":
		f, _ := ParseFourCC(src)
		frames := cameraFrames(t, f)
		d := &fakeDevice{path: "/dev/video0", card: "bench camera", driver: "fake", interval: time.Second / 30,
			formats: []fakeFormat{{fourcc: f, sizes: []fakeSize{{640, 480, []int{30}}}}}, script: make(chan fakeStep),
			picture: func(seq uint32, _ FourCC, _, _, _ int) []byte { return frames[int(seq)%len(frames)] }}
		c, err := open(newFakeSystem(d), d.path, Config{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		source = c
	default:
		t.Fatalf("source %q", src)
	}
	enc, err := capvp8.NewEncoder(capvp8.EncoderConfig{Width: 640, Height: 480})
	if err != nil {
		t.Fatal(err)
	}
	s, err := rtclink.New(rtclink.Config{
		Signaler: rtctest.Dial(t, os.Getenv(senderSignalEnv), benchRoom), Role: rtclink.Offerer,
		Video:           &rtclink.VideoSender{Source: source, Encoder: enc},
		IncludeLoopback: true, DisableCongestionControl: true, Logger: rtctest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Error("the benchmark never closed stdin")
	}
	fmt.Fprintf(os.Stderr, "sender: %+v\n", s.Stats())
}

// cameraFrames is one second of the grainy, camera-like moving picture as
// the camera sends it: YUYV, or MJPEG (image/jpeg at quality 85, 4:2:0,
// without Huffman tables).
func cameraFrames(t *testing.T, f FourCC) [][]byte {
	out := make([][]byte, 30)
	for i := range out {
		pic := vpxtest.Picture(640, 480, i)
		if f == YUYV {
			out[i] = devicePicture(pic, YUYV, rowBytes(YUYV, 640))
			continue
		}
		y, u, v := capture.I420Planes(pic)
		img := &image.YCbCr{Y: y, Cb: u, Cr: v, YStride: 640, CStride: 320, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, 640, 480)}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		out[i] = stripDHT(b.Bytes())
	}
	return out
}
