package v4l2

import (
	"math"
	"testing"
)

func TestNegotiation(t *testing.T) {
	ntsc := func(path string) *fakeDevice {
		return &fakeDevice{path: path, card: "capture card", driver: "fake", script: make(chan fakeStep),
			formats: []fakeFormat{{fourcc: NV12, desc: "Y/CbCr 4:2:0", sizes: []fakeSize{{720, 480, []int{2997}}}}}}
	}
	far := func(path string) *fakeDevice {
		return &fakeDevice{path: path, card: "far sizes", driver: "fake", script: make(chan fakeStep),
			formats: []fakeFormat{{fourcc: BGR24, desc: "BGR", sizes: []fakeSize{{1280, 720, []int{30}}, {320, 180, []int{30}}}}}}
	}
	stepwise := func(path string) *fakeDevice {
		return &fakeDevice{path: path, card: "stepwise", driver: "fake", script: make(chan fakeStep),
			formats: []fakeFormat{{fourcc: RGB24, desc: "RGB", stepwise: &SizeRange{MinWidth: 160, MaxWidth: 1920, StepWidth: 16,
				MinHeight: 120, MaxHeight: 1080, StepHeight: 8}, rates: []int{60, 5}}}}
	}
	noRates := func(path string) *fakeDevice {
		return &fakeDevice{path: path, card: "no rates", driver: "fake", script: make(chan fakeStep), noParm: true,
			formats: []fakeFormat{{fourcc: JPEG, desc: "JFIF", sizes: []fakeSize{{640, 480, nil}}}}}
	}
	for _, tc := range []struct {
		name string
		dev  func(string) *fakeDevice
		cfg  Config
		want Mode
	}{
		{"RealSense colour, defaults", realsenseColour, Config{}, Mode{YUYV, 640, 480, 30}},
		{"RealSense colour, 1280x720@15", realsenseColour, Config{Width: 1280, Height: 720, FPS: 15}, Mode{YUYV, 1280, 720, 15}},
		{"RealSense colour, 60 fps", realsenseColour, Config{FPS: 60}, Mode{YUYV, 640, 480, 60}},
		// The rate matters more than the format: YUYV gives only 15 fps
		// at 640x480, MJPEG 30.
		{"webcam, defaults", webcam, Config{}, Mode{MJPEG, 640, 480, 30}},
		{"webcam, YUYV only", webcam, Config{Formats: []FourCC{YUYV}}, Mode{YUYV, 640, 480, 15}},
		{"webcam, 15 fps prefers YUYV", webcam, Config{FPS: 15}, Mode{YUYV, 640, 480, 15}},
		{"webcam, MJPEG first", webcam, Config{FPS: 15, Formats: []FourCC{MJPEG, YUYV}}, Mode{MJPEG, 640, 480, 15}},
		{"webcam, 1280x720", webcam, Config{Width: 1280, Height: 720}, Mode{MJPEG, 1280, 720, 30}},
		{"29.97 counts as 30", ntsc, Config{FPS: 30}, Mode{NV12, 720, 480, 30000.0 / 1001}},
		{"no 640x480: the nearest size", far, Config{}, Mode{BGR24, 320, 180, 30}},
		{"any size in steps", stepwise, Config{}, Mode{RGB24, 640, 480, 30}},
		{"any size in steps, set", stepwise, Config{Width: 1280, Height: 720, FPS: 50}, Mode{RGB24, 1280, 720, 50}},
		{"a driver with no rates", noRates, Config{}, Mode{JPEG, 640, 480, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dev("/dev/video0")
			c := openFake(t, d, tc.cfg)
			got := c.Mode()
			if got.Format != tc.want.Format || got.Width != tc.want.Width || got.Height != tc.want.Height || math.Abs(got.FPS-tc.want.FPS) > 1e-9 {
				t.Fatalf("mode %v, want %v", got, tc.want)
			}
			if d.ival.fps() != got.FPS {
				t.Fatalf("driver set to %v fps, Mode says %v", d.ival.fps(), got.FPS)
			}
			d.step(t, fakeStep{kind: "deliver", n: 1})
			if f := read(t, c); f.Width != got.Width || f.Height != got.Height {
				t.Fatalf("frame %dx%d in mode %v", f.Width, f.Height, got)
			}
		})
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{
		{YUYV, 640, 480, 30}:              "YUYV 640x480@30",
		{MJPEG, 1280, 720, 30000. / 1001}: "MJPG 1280x720@29.97",
		{NV12, 320, 240, 0}:               "NV12 320x240",
	} {
		if got := m.String(); got != want {
			t.Errorf("%#v: %q, want %q", m, got, want)
		}
	}
}

func TestFourCC(t *testing.T) {
	for s, want := range map[string]FourCC{"yuyv": YUYV, "MJPEG": MJPEG, "mjpg": MJPEG, "nv12": NV12, "rgb24": RGB24,
		"BGR3": BGR24, "jpeg": JPEG, "Z16": 'Z' | '1'<<8 | '6'<<16 | ' '<<24, "GREY": 'G' | 'R'<<8 | 'E'<<16 | 'Y'<<24} {
		got, err := ParseFourCC(s)
		if err != nil || got != want {
			t.Errorf("ParseFourCC(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "toolong", "a\x01"} {
		if _, err := ParseFourCC(s); err == nil {
			t.Errorf("ParseFourCC(%q) succeeded", s)
		}
	}
	for f, want := range map[FourCC]string{YUYV: "YUYV", MJPEG: "MJPG", RGB24: "RGB3", 'Z' | '1'<<8 | '6'<<16 | ' '<<24: "Z16", 7: "0x00000007"} {
		if got := f.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint32(f), got, want)
		}
	}
	for _, f := range []FourCC{YUYV, MJPEG, JPEG, NV12, RGB24, BGR24} {
		if !f.Convertible() {
			t.Errorf("%v is not convertible", f)
		}
	}
	if (FourCC('G' | 'R'<<8 | 'E'<<16 | 'Y'<<24)).Convertible() {
		t.Error("GREY is convertible")
	}
}
