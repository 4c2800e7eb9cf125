package v4l2

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/depth"
)

// depthValue is the fake depth node's millimetres at a pixel of frame
// seq: a band of missing depth (0) at the left edge, as a stereo camera
// has, then values that move with seq so every frame differs.
func depthValue(seq uint32, x, y int) uint16 {
	if x < 4 {
		return 0
	}
	return uint16(280 + (x*3+y*5+int(seq)*11)%4000)
}

// depthPicture lays out frame seq as the driver does: little-endian
// uint16 rows stride bytes apart (tight when stride is 0), padding 0xee.
func depthPicture(seq uint32, w, h, stride int) []byte {
	if stride == 0 {
		stride = 2 * w
	}
	out := make([]byte, stride*h)
	for i := range out {
		out[i] = 0xee
	}
	for y := range h {
		for x := range w {
			v := depthValue(seq, x, y)
			out[y*stride+2*x], out[y*stride+2*x+1] = byte(v), byte(v>>8)
		}
	}
	return out
}

// depthTight is frame seq as a capture.FormatZ16 frame's Data.
func depthTight(seq uint32, w, h int) []byte { return depthPicture(seq, w, h, 0) }

// realsenseDepth is a RealSense D435's depth node as uvcvideo shows it.
func realsenseDepth(path string) *fakeDevice {
	return &fakeDevice{
		path: path, card: "Intel(R) RealSense(TM) Depth Camera 435", driver: "uvcvideo", bus: "usb-0000:00:14.0-2",
		formats: []fakeFormat{{fourcc: Z16, desc: "16-bit Depth", sizes: []fakeSize{
			{480, 270, []int{90, 60, 30, 15, 6}}, {640, 480, []int{90, 60, 30, 15, 6}},
			{848, 480, []int{90, 60, 30, 15, 6}}, {1280, 720, []int{30, 15, 6}},
		}}},
		picture: func(seq uint32, f FourCC, w, h, stride int) []byte {
			if f != Z16 {
				panic("the depth node was set to " + f.String())
			}
			return depthPicture(seq, w, h, stride)
		},
		script: make(chan fakeStep),
	}
}

func readDepth(t *testing.T, c *Camera) *capture.VideoFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := c.ReadVideo(ctx)
	if err != nil {
		t.Fatalf("ReadVideo: %v", err)
	}
	if err := f.Validate(); err != nil || f.Format != capture.FormatZ16 {
		t.Fatalf("frame %v %dx%d: %v", f.Format, f.Width, f.Height, err)
	}
	return f
}

// A depth node opened with Formats {Z16} negotiates like a colour one and
// delivers each frame's depth untouched.
func TestDepthNodeStreamsZ16(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		mode string
	}{
		{Config{Formats: []FourCC{Z16}}, "Z16 640x480@30"},
		{Config{Width: 848, Height: 480, FPS: 90, Formats: []FourCC{Z16}}, "Z16 848x480@90"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			d := realsenseDepth("/dev/video0")
			c := openFake(t, d, tc.cfg)
			if got := c.Mode().String(); got != tc.mode {
				t.Fatalf("mode %s, want %s", got, tc.mode)
			}
			w, h := c.Mode().Width, c.Mode().Height
			for seq := range uint32(3) {
				d.step(t, fakeStep{kind: "deliver", n: 1})
				f := readDepth(t, c)
				if f.Width != w || f.Height != h {
					t.Fatalf("frame %dx%d in mode %v", f.Width, f.Height, c.Mode())
				}
				if string(f.Data) != string(depthTight(seq, w, h)) {
					t.Fatalf("frame %d: depth differs from what the driver sent", seq)
				}
				if f.Time.IsZero() {
					t.Error("frame without a capture time")
				}
			}
			if s := c.Stats(); s.Delivered != 3 || s.Corrupt != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// Rows padded by the driver come out tight.
func TestDepthRowPaddingIsRemoved(t *testing.T) {
	const w, h, stride = 13, 5, 2*13 + 6
	c := &Camera{mode: Mode{Format: Z16, Width: w, Height: h}, raw: true, pixfmt: capture.FormatZ16, stride: stride}
	epoch := time.UnixMilli(1764000000000)
	data := depthPicture(7, w, h, stride)
	f, err := c.convert(data[:stride*(h-1)+2*w], epoch)
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != capture.FormatZ16 || f.Width != w || f.Height != h || !f.Time.Equal(epoch) {
		t.Fatalf("frame %v %dx%d at %v", f.Format, f.Width, f.Height, f.Time)
	}
	if string(f.Data) != string(depthTight(7, w, h)) {
		t.Fatal("padded rows were not copied out tight")
	}
	data[2*5] ^= 0xff // the frame is a copy, not the driver's memory
	if string(f.Data) != string(depthTight(7, w, h)) {
		t.Fatal("the frame shares the driver's memory")
	}
}

// Depth frames handed back are reused, as colour frames are.
func TestDepthFramesAreRecycled(t *testing.T) {
	d := realsenseDepth("/dev/video0")
	c := openFake(t, d, Config{Formats: []FourCC{Z16}})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	a := readDepth(t, c)
	mem := &a.Data[0]
	c.RecycleVideo(a)
	d.step(t, fakeStep{kind: "deliver", n: 1})
	b := readDepth(t, c)
	if &b.Data[0] != mem {
		t.Error("the recycled buffer was not reused")
	}
	if string(b.Data) != string(depthTight(1, 640, 480)) {
		t.Error("reused buffer holds the wrong frame")
	}
}

// Short and flagged depth frames are skipped like damaged colour frames.
func TestDamagedDepthFramesAreSkipped(t *testing.T) {
	d := realsenseDepth("/dev/video0")
	c := openFake(t, d, Config{Formats: []FourCC{Z16}})
	d.step(t, fakeStep{kind: "short"})
	d.step(t, fakeStep{kind: "flagged", n: 1})
	d.step(t, fakeStep{kind: "deliver", n: 1})
	f := readDepth(t, c)
	if string(f.Data) != string(depthTight(2, 640, 480)) {
		t.Error("the good frame after damaged ones differs")
	}
	if s := c.Stats(); s.Corrupt != 2 {
		t.Errorf("stats %+v, want 2 corrupt", s)
	}
}

// The depth node through the colour map gives video a browser can show.
func TestDepthNodeThroughColorizer(t *testing.T) {
	d := realsenseDepth("/dev/video0")
	cam := openFake(t, d, Config{Width: 848, Height: 480, Formats: []FourCC{Z16}})
	src, err := depth.NewColorizer(cam, depth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	d.step(t, fakeStep{kind: "deliver", n: 1})
	f, err := src.ReadVideo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != capture.FormatI420 || f.Width != 848 || f.Height != 480 || f.Validate() != nil {
		t.Fatalf("colourised frame %v %dx%d", f.Format, f.Width, f.Height)
	}
	var want capture.VideoFrame
	z := &capture.VideoFrame{Format: capture.FormatZ16, Width: 848, Height: 480, Data: depthTight(0, 848, 480), Time: f.Time}
	if err := src.Map().ToI420(&want, z); err != nil || string(want.Data) != string(f.Data) {
		t.Fatalf("colourised frame differs from the map's picture of the depth sent (%v)", err)
	}
	if y, _, _ := capture.I420Planes(f); y[0] != 16 {
		t.Errorf("missing depth at the left edge has luma %d, want black", y[0])
	}
	// Closing the colouriser closes the camera and releases the node;
	// openFake's cleanup closes it again, which must be harmless.
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	d.checkReleased(t)
}

func TestDepthConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dev    func() *fakeDevice
		cfg    Config
		target error
		says   []string
	}{
		{name: "depth mixed with colour", dev: func() *fakeDevice { return realsenseDepth("/dev/video0") },
			cfg: Config{Formats: []FourCC{Z16, YUYV}}, target: ErrConfig, says: []string{"[Z16 YUYV]", "two Cameras"}},
		{name: "infrared", dev: func() *fakeDevice { return realsenseDepth("/dev/video0") },
			cfg: Config{Formats: []FourCC{'Y' | '8'<<8 | 'I'<<16 | ' '<<24}}, target: ErrConfig, says: []string{"Y8I", "Z16 can"}},
		{name: "depth node without Z16 asked for", dev: func() *fakeDevice { return realsenseDepth("/dev/video0") },
			target: ErrFormat, says: []string{"no colour format", "Z16 480x270@90/60/30/15/6", "Config.Formats to {Z16}"}},
		{name: "Z16 from the colour node", dev: func() *fakeDevice { return realsenseColour("/dev/video4") },
			cfg: Config{Formats: []FourCC{Z16}}, target: ErrFormat, says: []string{"does not offer Z16", "it offers YUYV"}},
		{name: "Z16 size not offered", dev: func() *fakeDevice { return realsenseDepth("/dev/video0") },
			cfg: Config{Width: 1920, Height: 1080, Formats: []FourCC{Z16}}, target: ErrFormat, says: []string{"no 1920x1080 in Z16"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dev()
			cfg := tc.cfg
			cfg.Logger = quiet
			c, err := open(newFakeSystem(d), d.path, cfg)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.target) {
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

// FindDepth picks a RealSense's depth node; Find still picks its colour
// node.
func TestFindDepth(t *testing.T) {
	s := realsenseNodes()
	d, err := findDepth(s, "RealSense")
	if err != nil || d.Path != "/dev/video0" || !d.HasDepth() || d.Streamable() {
		t.Fatalf("FindDepth(RealSense) = %s (depth %v), %v; want /dev/video0", d.Path, d.HasDepth(), err)
	}
	if d, err := find(s, "RealSense"); err != nil || d.Path != "/dev/video4" {
		t.Fatalf("Find(RealSense) = %s, %v; want the colour node", d.Path, err)
	}
	_, err = findDepth(s, "C270")
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), `no depth camera named "C270"`) ||
		!strings.Contains(err.Error(), `/dev/video6 "HD Webcam C270" (no Z16 depth)`) {
		t.Fatalf("FindDepth(C270): %v", err)
	}
	for _, d := range s.devs {
		d.checkReleased(t)
	}
}

func TestZ16FourCC(t *testing.T) {
	for _, s := range []string{"z16", "Z16", "Z16 "} {
		if f, err := ParseFourCC(s); err != nil || f != Z16 {
			t.Errorf("ParseFourCC(%q) = %v, %v; want Z16", s, f, err)
		}
	}
	if Z16.String() != "Z16" || !Z16.Depth() || Z16.Convertible() || YUYV.Depth() {
		t.Errorf("Z16: %q depth %v convertible %v", Z16.String(), Z16.Depth(), Z16.Convertible())
	}
	if pf, ok := Z16.pixelFormat(); !ok || pf != capture.FormatZ16 {
		t.Errorf("Z16 is delivered as %v", pf)
	}
	for _, s := range []string{" ", "    "} {
		if _, err := ParseFourCC(s); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseFourCC(%q): %v, want ErrConfig", s, err)
		}
	}
}
