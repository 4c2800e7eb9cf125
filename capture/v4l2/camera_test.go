package v4l2

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/testclock"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// realsenseColour is a RealSense D435's colour node as uvcvideo shows it.
func realsenseColour(path string) *fakeDevice {
	return &fakeDevice{
		path: path, card: "Intel(R) RealSense(TM) Depth Camera 435", driver: "uvcvideo", bus: "usb-0000:00:14.0-2",
		formats: []fakeFormat{{fourcc: YUYV, desc: "YUYV 4:2:2", sizes: []fakeSize{
			{320, 180, []int{60, 30, 15, 6}}, {640, 480, []int{60, 30, 15, 6}},
			{848, 480, []int{60, 30, 15, 6}}, {1280, 720, []int{30, 15, 6}}, {1920, 1080, []int{30, 15, 6}},
		}}},
		script: make(chan fakeStep),
	}
}

// webcam offers YUYV only slowly at larger sizes, and MJPEG fast.
func webcam(path string) *fakeDevice {
	return &fakeDevice{
		path: path, card: "HD Webcam C270", driver: "uvcvideo", bus: "usb-0000:00:14.0-3",
		formats: []fakeFormat{
			{fourcc: YUYV, desc: "YUYV 4:2:2", sizes: []fakeSize{{640, 480, []int{15, 10}}, {1280, 720, []int{7}}}},
			{fourcc: MJPEG, desc: "Motion-JPEG", sizes: []fakeSize{{640, 480, []int{30, 15}}, {1280, 720, []int{30}}}},
		},
		script: make(chan fakeStep),
	}
}

func openFake(t *testing.T, d *fakeDevice, cfg Config) *Camera {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	c, err := open(newFakeSystem(d), d.path, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", d.path, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		d.checkReleased(t)
	})
	return c
}

func read(t *testing.T, c *Camera) *capture.VideoFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := c.ReadVideo(ctx)
	if err != nil {
		t.Fatalf("ReadVideo: %v", err)
	}
	if err := f.Validate(); err != nil || f.Format != capture.FormatI420 {
		t.Fatalf("frame %v %dx%d: %v", f.Format, f.Width, f.Height, err)
	}
	return f
}

// want converts what the device sent with the capture package's own
// converters: the Camera must give exactly this.
func want(t *testing.T, seq uint32, f FourCC, w, h int) []byte {
	t.Helper()
	data := devicePicture(refPicture(seq, w, h), f, rowBytes(f, w))
	out := &capture.VideoFrame{}
	if f.compressed() {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := capture.ImageToI420(out, img); err != nil {
			t.Fatal(err)
		}
		return out.Data
	}
	pf, _ := f.pixelFormat()
	if err := capture.ToI420(out, &capture.VideoFrame{Format: pf, Width: w, Height: h, Data: data}); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

func TestOpenNegotiatesAndStreams(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{})
	if got := c.Mode(); got != (Mode{Format: YUYV, Width: 640, Height: 480, FPS: 30}) {
		t.Fatalf("mode %v, want YUYV 640x480@30", got)
	}
	if w, h := c.Size(); w != 640 || h != 480 {
		t.Fatalf("Size() = %dx%d, want 640x480", w, h)
	}
	if d.ival != (v4l2Fract{1, 30}) {
		t.Fatalf("driver's frame interval %v, want 1/30", d.ival)
	}
	if info := c.Info(); info.Card != "Intel(R) RealSense(TM) Depth Ca" || info.Driver != "uvcvideo" || len(info.Formats) != 1 || len(info.Formats[0].Sizes) != 5 {
		t.Fatalf("info %+v", info)
	}
	for seq := range uint32(3) {
		d.step(t, fakeStep{kind: "deliver", n: 1})
		f := read(t, c)
		if f.Width != 640 || f.Height != 480 || !bytes.Equal(f.Data, want(t, seq, YUYV, 640, 480)) {
			t.Fatalf("frame %d is not the device's picture converted", seq)
		}
	}
	if s := c.Stats(); s != (Stats{Captured: 3, Delivered: 3}) {
		t.Fatalf("stats %+v", s)
	}
}

// Every format converts exactly as the capture package converts the
// same bytes, with and without padding after each row, and MJPEG with or
// without Huffman tables.
func TestFormatsConvert(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        FourCC
		pad      int
		stripDHT bool
	}{
		{"YUYV", YUYV, 0, false}, {"YUYV padded", YUYV, 64, false},
		{"NV12", NV12, 0, false}, {"NV12 padded", NV12, 32, false},
		{"RGB24", RGB24, 0, false}, {"BGR24", BGR24, 0, false}, {"BGR24 padded", BGR24, 16, false},
		{"MJPEG", MJPEG, 0, false}, {"MJPEG without Huffman tables", MJPEG, 0, true}, {"JPEG", JPEG, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDevice{path: "/dev/video0", card: "cam", driver: "fake", pad: tc.pad, stripDHT: tc.stripDHT,
				formats: []fakeFormat{{fourcc: tc.f, desc: tc.name, sizes: []fakeSize{{320, 240, []int{30}}}}},
				script:  make(chan fakeStep)}
			c := openFake(t, d, Config{Width: 320, Height: 240})
			d.step(t, fakeStep{kind: "deliver", n: 1})
			if got := read(t, c); !bytes.Equal(got.Data, want(t, 0, tc.f, 320, 240)) {
				t.Fatalf("%s frame differs from the converted picture", tc.name)
			}
		})
	}
}

// A reader slower than the camera gets the newest frame, never a queue:
// older frames go straight back to the driver.
func TestNewestFrameWins(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{Buffers: 4})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	d.step(t, fakeStep{kind: "deliver", n: 2})
	d.step(t, fakeStep{kind: "deliver", n: 2})
	f := read(t, c)
	if !bytes.Equal(f.Data, want(t, 4, YUYV, 640, 480)) {
		t.Fatal("ReadVideo did not return the newest of five frames")
	}
	if s := c.Stats(); s.Captured != 5 || s.Replaced != 4 || s.Delivered != 1 || s.Lost != 0 {
		t.Fatalf("stats %+v, want 5 captured, 4 replaced, 1 delivered", s)
	}
	// Nothing newer: the next read waits for the next frame.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.ReadVideo(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadVideo with no new frame: %v, want the context's error", err)
	}
	d.step(t, fakeStep{kind: "deliver", n: 1})
	if f := read(t, c); !bytes.Equal(f.Data, want(t, 5, YUYV, 640, 480)) {
		t.Fatal("the frame after a timed-out read is not the next one")
	}
}

// Frames the driver drops for want of a free buffer show as gaps in its
// sequence numbers.
func TestDriverDropsCountAsLost(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{Buffers: 3})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	read(t, c)
	// Ten frames at once: three buffers are queued, seven frames drop.
	d.step(t, fakeStep{kind: "deliver", n: 10})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	f := read(t, c)
	if !bytes.Equal(f.Data, want(t, 11, YUYV, 640, 480)) {
		t.Fatal("not the newest frame")
	}
	if s := c.Stats(); s.Lost != 7 || s.Captured != 5 {
		t.Fatalf("stats %+v, want 7 lost of 12, 5 captured", s)
	}
}

func TestDamagedFramesAreSkipped(t *testing.T) {
	// Flagged and short frames are skipped as they arrive.
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	d.step(t, fakeStep{kind: "flagged", n: 1})
	d.step(t, fakeStep{kind: "short"})
	if f := read(t, c); !bytes.Equal(f.Data, want(t, 0, YUYV, 640, 480)) {
		t.Fatal("a damaged frame replaced a good one")
	}
	if s := c.Stats(); s.Corrupt != 2 || s.Replaced != 0 {
		t.Fatalf("stats %+v, want 2 corrupt, none replaced", s)
	}

	// A JPEG that does not decode is found out when read, and the read
	// goes on to wait for the next frame.
	d = webcam("/dev/video0")
	c = openFake(t, d, Config{Formats: []FourCC{MJPEG}})
	if c.Mode().Format != MJPEG {
		t.Fatalf("mode %v", c.Mode())
	}
	d.step(t, fakeStep{kind: "garbage", bytes: []byte{0xff, 0xd8, 0xff, 0xdb, 0, 4, 1, 2, 0xff, 0xd9}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.ReadVideo(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadVideo of a damaged JPEG: %v, want it to wait for the next frame", err)
	}
	d.step(t, fakeStep{kind: "deliver", n: 1})
	if f := read(t, c); !bytes.Equal(f.Data, want(t, 1, MJPEG, 640, 480)) {
		t.Fatal("the good frame after a damaged one is not the one read")
	}
	if s := c.Stats(); s.Corrupt != 1 || s.Delivered != 1 {
		t.Fatalf("stats %+v, want 1 corrupt, 1 delivered", s)
	}
}

func TestUnpluggedMidStream(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	read(t, c)
	errc := make(chan error, 1)
	go func() {
		_, err := c.ReadVideo(context.Background())
		errc <- err
	}()
	d.step(t, fakeStep{kind: "unplug"})
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadVideo did not return after the camera went away")
	}
	if !errors.Is(err, ErrUnplugged) || !strings.Contains(err.Error(), "/dev/video4") {
		t.Fatalf("ReadVideo after unplug: %v, want ErrUnplugged naming the node", err)
	}
	// The device is released at once, without waiting for Close.
	<-c.done
	d.checkReleased(t)
	if _, err := c.ReadVideo(context.Background()); !errors.Is(err, ErrUnplugged) {
		t.Fatalf("second ReadVideo: %v", err)
	}
}

func TestStalled(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{FrameTimeout: time.Second})
	d.step(t, fakeStep{kind: "stall"})
	_, err := c.ReadVideo(context.Background())
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "1s") {
		t.Fatalf("ReadVideo of a stalled camera: %v, want ErrStalled naming the timeout", err)
	}
}

func TestCloseUnblocksReadAndIsIdempotent(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c, err := open(newFakeSystem(d), d.path, Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.ReadVideo(context.Background())
		errc <- err
	}()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-errc; !errors.Is(err, io.EOF) {
		t.Fatalf("blocked ReadVideo after Close: %v, want io.EOF", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.ReadVideo(context.Background()); !errors.Is(err, io.EOF) {
		t.Fatalf("ReadVideo after Close: %v", err)
	}
	d.checkReleased(t)
}

func TestFrameTimeIsTheDriversTimestamp(t *testing.T) {
	d := realsenseColour("/dev/video4")
	d.lag = 12 * time.Millisecond
	epoch := time.UnixMilli(1764000000000)
	c := openFake(t, d, Config{Clock: testclock.New(epoch)})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	if f := read(t, c); !f.Time.Equal(epoch.Add(-12 * time.Millisecond)) {
		t.Fatalf("frame time %v, want 12 ms before the clock's now", f.Time.Sub(epoch))
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dev    func() *fakeDevice
		cfg    Config
		sys    func(*fakeSystem)
		path   string
		target error
		says   []string
	}{
		{name: "no such node", dev: func() *fakeDevice { return realsenseColour("/dev/video4") }, path: "/dev/video99",
			target: ErrNoDevice, says: []string{"/dev/video99"}},
		{name: "permission", dev: func() *fakeDevice { return realsenseColour("/dev/video4") },
			sys: func(s *fakeSystem) { s.openErr["/dev/video4"] = syscall.EACCES }, target: fs.ErrPermission, says: []string{"video group"}},
		{name: "not V4L2", dev: func() *fakeDevice {
			d := realsenseColour("/dev/video4")
			d.fail = map[uintptr]syscall.Errno{vidiocQuerycap: syscall.ENOTTY}
			return d
		}, target: ErrNotCapture, says: []string{"not a V4L2 device"}},
		{name: "metadata node", dev: func() *fakeDevice {
			d := realsenseColour("/dev/video4")
			d.caps = capMetaCapture | capStreaming
			return d
		}, target: ErrNotCapture, says: []string{"metadata"}},
		{name: "depth node", dev: func() *fakeDevice {
			d := realsenseColour("/dev/video0")
			d.formats = []fakeFormat{{fourcc: 'Z' | '1'<<8 | '6'<<16 | ' '<<24, desc: "16-bit Depth", sizes: []fakeSize{{848, 480, []int{90, 30}}}}}
			return d
		}, target: ErrFormat, says: []string{"no colour format", "Z16 848x480@90/30"}},
		{name: "size not offered", dev: func() *fakeDevice { return webcam("/dev/video0") }, cfg: Config{Width: 800, Height: 600},
			target: ErrFormat, says: []string{"no 800x600", "YUYV 640x480@15/10, 1280x720@7", "MJPG 640x480@30/15"}},
		{name: "rate not offered", dev: func() *fakeDevice { return webcam("/dev/video0") }, cfg: Config{Width: 1280, Height: 720, FPS: 60},
			target: ErrFormat, says: []string{"1280x720 at 60 fps"}},
		{name: "format not offered", dev: func() *fakeDevice { return realsenseColour("/dev/video4") }, cfg: Config{Formats: []FourCC{MJPEG}},
			target: ErrFormat, says: []string{"does not offer MJPG", "it offers YUYV 320x180"}},
		{name: "driver substitutes the size", dev: func() *fakeDevice {
			d := webcam("/dev/video0")
			d.forceSize = &[2]int{320, 240}
			return d
		}, cfg: Config{Width: 640, Height: 480}, target: ErrFormat, says: []string{"set MJPG 320x240"}},
		{name: "busy", dev: func() *fakeDevice {
			d := realsenseColour("/dev/video4")
			d.fail = map[uintptr]syscall.Errno{vidiocStreamon: syscall.EBUSY}
			return d
		}, target: ErrBusy, says: []string{"another program"}},
		{name: "no USB bandwidth", dev: func() *fakeDevice {
			d := realsenseColour("/dev/video4")
			d.fail = map[uintptr]syscall.Errno{vidiocStreamon: syscall.ENOSPC}
			return d
		}, target: ErrBusy, says: []string{"bandwidth", "YUYV 640x480@30"}},
		{name: "one buffer", dev: func() *fakeDevice {
			d := realsenseColour("/dev/video4")
			d.maxBuffers = 1
			return d
		}, says: []string{"gave 1 buffers"}},
		{name: "bad config", dev: func() *fakeDevice { return realsenseColour("/dev/video4") }, cfg: Config{Width: 640},
			target: ErrConfig},
		{name: "unconvertible format asked for", dev: func() *fakeDevice { return realsenseColour("/dev/video4") },
			cfg: Config{Formats: []FourCC{'G' | 'R'<<8 | 'E'<<16 | 'Y'<<24}}, target: ErrConfig, says: []string{"GREY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dev()
			s := newFakeSystem(d)
			if tc.sys != nil {
				tc.sys(s)
			}
			path := tc.path
			if path == "" {
				path = d.path
			}
			cfg := tc.cfg
			cfg.Logger = quiet
			c, err := open(s, path, cfg)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Fatalf("error %v, want %v", err, tc.target)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			d.checkReleased(t)
		})
	}
}

// A second program opening a camera that streams gets ErrBusy; the
// first keeps streaming.
func TestBusyWhileAnotherStreams(t *testing.T) {
	d := realsenseColour("/dev/video4")
	s := newFakeSystem(d)
	first, err := open(s, d.path, Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Close()
		d.checkReleased(t)
	}()
	if c, err := open(s, d.path, Config{Logger: quiet}); !errors.Is(err, ErrBusy) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("second Open: %v, want ErrBusy", err)
	}
	d.step(t, fakeStep{kind: "deliver", n: 1})
	read(t, first)
}

func TestReadVideoHonoursContext(t *testing.T) {
	d := realsenseColour("/dev/video4")
	c := openFake(t, d, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ReadVideo(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReadVideo with a cancelled context: %v", err)
	}
	d.step(t, fakeStep{kind: "deliver", n: 1})
	read(t, c)
}

// A frame handed back with RecycleVideo carries the next picture, in the
// same memory.
func TestRecycledFramesAreReused(t *testing.T) {
	for _, f := range []FourCC{YUYV, MJPEG} {
		d := &fakeDevice{path: "/dev/video0", card: "cam", driver: "fake", script: make(chan fakeStep),
			formats: []fakeFormat{{fourcc: f, sizes: []fakeSize{{320, 240, []int{30}}}}}}
		c := openFake(t, d, Config{})
		d.step(t, fakeStep{kind: "deliver", n: 1})
		first := read(t, c)
		mem := &first.Data[0]
		c.RecycleVideo(first)
		if first.Data != nil {
			t.Fatal("RecycleVideo left the frame's Data")
		}
		d.step(t, fakeStep{kind: "deliver", n: 1})
		second := read(t, c)
		if &second.Data[0] != mem {
			t.Fatalf("%v: the recycled buffer was not reused", f)
		}
		if !bytes.Equal(second.Data, want(t, 1, f, 320, 240)) {
			t.Fatalf("%v: the reused buffer holds the wrong picture", f)
		}
	}
}
