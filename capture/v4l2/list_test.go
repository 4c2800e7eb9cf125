package v4l2

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

var (
	z16  = FourCC('Z' | '1'<<8 | '6'<<16 | ' '<<24)
	grey = FourCC('G' | 'R'<<8 | 'E'<<16 | 'Y'<<24)
	y8i  = FourCC('Y' | '8'<<8 | 'I'<<16 | ' '<<24)
)

// realsenseNodes is a RealSense D435 as uvcvideo shows it: depth,
// infrared and colour nodes, each with a metadata node after it, all
// under the same card name; and a webcam after them.
func realsenseNodes() *fakeSystem {
	meta := func(path string) *fakeDevice {
		d := realsenseColour(path)
		d.caps, d.formats = capMetaCapture|capStreaming, nil
		return d
	}
	depth := realsenseColour("/dev/video0")
	depth.formats = []fakeFormat{{fourcc: z16, desc: "16-bit Depth", sizes: []fakeSize{{848, 480, []int{90, 60, 30}}, {1280, 720, []int{30, 15}}}}}
	ir := realsenseColour("/dev/video2")
	ir.formats = []fakeFormat{
		{fourcc: grey, desc: "8-bit Greyscale", sizes: []fakeSize{{848, 480, []int{90, 30}}}},
		{fourcc: y8i, desc: "Interleaved 8-bit", sizes: []fakeSize{{848, 480, []int{90, 30}}}},
	}
	return newFakeSystem(depth, meta("/dev/video1"), ir, meta("/dev/video3"), realsenseColour("/dev/video4"), meta("/dev/video5"), webcam("/dev/video6"))
}

func TestListShowsEveryNode(t *testing.T) {
	s := realsenseNodes()
	s.openErr["/dev/video5"] = syscall.EACCES
	devs, err := list(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 7 {
		t.Fatalf("%d nodes listed, want 7", len(devs))
	}
	var text []string
	for _, d := range devs {
		text = append(text, d.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{
		`/dev/video0  "Intel(R) RealSense(TM) Depth Ca"  (uvcvideo, usb-0000:00:14.0-2)`,
		`Z16  "16-bit Depth" (not streamed): 848x480@90/60/30, 1280x720@30/15`,
		"/dev/video1  \"Intel(R) RealSense(TM) Depth Ca\"  (uvcvideo, usb-0000:00:14.0-2)\n    not a video capture node",
		`GREY "8-bit Greyscale" (not streamed)`,
		`YUYV "YUYV 4:2:2": 320x180@60/30/15/6, 640x480@60/30/15/6, 848x480@60/30/15/6, 1280x720@30/15/6, 1920x1080@30/15/6`,
		`/dev/video5: v4l2: /dev/video5: permission denied`,
		`MJPG "Motion-JPEG": 640x480@30/15, 1280x720@30`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("listing lacks %q:\n%s", want, all)
		}
	}
	if !errors.Is(devs[5].Err, fs.ErrPermission) {
		t.Errorf("node 5: %v", devs[5].Err)
	}
	streamable := []bool{false, false, false, false, true, false, true}
	for i, d := range devs {
		if d.Streamable() != streamable[i] {
			t.Errorf("%s: Streamable %v", d.Path, d.Streamable())
		}
	}
	for _, d := range s.devs {
		d.checkReleased(t)
	}
}

func TestFindPicksTheColourNode(t *testing.T) {
	s := realsenseNodes()
	d, err := find(s, "realsense")
	if err != nil || d.Path != "/dev/video4" {
		t.Fatalf("Find(realsense) = %s, %v; want /dev/video4", d.Path, err)
	}
	if d, err := find(s, "C270"); err != nil || d.Path != "/dev/video6" {
		t.Fatalf("Find(C270) = %s, %v", d.Path, err)
	}
	_, err = find(s, "Kinect")
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Find(Kinect): %v", err)
	}
	for _, want := range []string{`"Kinect"`, `/dev/video0 "Intel(R) RealSense(TM) Depth Ca" (no colour format)`, `/dev/video6 "HD Webcam C270"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = find(newFakeSystem(), "realsense")
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "no video nodes") {
		t.Fatalf("Find on a machine without nodes: %v", err)
	}
	for _, d := range s.devs {
		d.checkReleased(t)
	}
}

// A RealSense's other nodes fail with errors that point at the colour
// node.
func TestOpenOtherRealSenseNodes(t *testing.T) {
	s := realsenseNodes()
	for path, want := range map[string]error{"/dev/video0": ErrFormat, "/dev/video1": ErrNotCapture, "/dev/video2": ErrFormat} {
		c, err := open(s, path, Config{Logger: quiet})
		if !errors.Is(err, want) {
			if c != nil {
				c.Close()
			}
			t.Errorf("Open(%s): %v, want %v", path, err, want)
		}
	}
	for _, d := range s.devs {
		d.checkReleased(t)
	}
}
