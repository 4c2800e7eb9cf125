package v4l2

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// DeviceInfo describes one V4L2 node, as [List] finds it.
type DeviceInfo struct {
	// Path is the node, such as "/dev/video4".
	Path string
	// Card is the device's name as its driver reports it, cut to 31
	// characters by the kernel: "Intel(R) RealSense(TM) Depth Ca" on each
	// of a RealSense D400's nodes.
	Card string
	// Driver is the kernel driver, "uvcvideo" for USB cameras.
	Driver string
	// BusInfo says where the device is attached, such as
	// "usb-0000:00:14.0-2".
	BusInfo string
	// Capture is true for a video capture node. Metadata nodes (one
	// beside each RealSense stream) and output nodes have it false and
	// list no formats.
	Capture bool
	// Formats are the formats the node offers, in the driver's order.
	Formats []FormatInfo
	// Err says why the node could not be read (permission denied, gone),
	// leaving the fields after Path empty.
	Err error
}

// FormatInfo is one format a node offers and the sizes and rates it
// offers it at.
type FormatInfo struct {
	Format FourCC
	// Description is the driver's name for it, such as "YUYV 4:2:2" or
	// "Motion-JPEG".
	Description string
	// Sizes lists the frame sizes offered, in the driver's order.
	Sizes []SizeInfo
	// SizeRange is set instead of Sizes by a driver that takes any size
	// within bounds (rare for USB cameras, whose sizes are a list).
	SizeRange *SizeRange
}

// SizeInfo is one frame size and the rates offered at it.
type SizeInfo struct {
	Width, Height int
	// FPS lists the frame rates offered, fastest first. When AnyFPS is
	// set the driver takes any rate from FPS[1] to FPS[0].
	FPS    []float64
	AnyFPS bool
}

// SizeRange is a range of sizes: every width from MinWidth to MaxWidth in
// steps of StepWidth, and likewise for heights.
type SizeRange struct {
	MinWidth, MaxWidth, StepWidth    int
	MinHeight, MaxHeight, StepHeight int
}

// Streamable reports whether a [Camera] can stream from the node: it is a
// capture node and offers at least one format that converts to I420.
func (d DeviceInfo) Streamable() bool {
	if !d.Capture {
		return false
	}
	for _, f := range d.Formats {
		if f.Format.Convertible() {
			return true
		}
	}
	return false
}

// HasDepth reports whether the node is a capture node offering Z16
// depth, which a [Camera] streams when Config.Formats is {Z16}.
func (d DeviceInfo) HasDepth() bool {
	return d.Capture && slices.ContainsFunc(d.Formats, func(f FormatInfo) bool { return f.Format.Depth() })
}

// String describes the node on several lines: path, card, driver and bus,
// then one line per format with its sizes and rates. Formats a Camera
// does not convert to colour video are marked "(not streamed)"; of those,
// Z16 streams as depth when Config.Formats asks for it alone.
func (d DeviceInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", d.Path)
	if d.Err != nil {
		fmt.Fprintf(&b, ": %v", d.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "  %q  (%s, %s)", d.Card, d.Driver, d.BusInfo)
	if !d.Capture {
		b.WriteString("\n    not a video capture node (metadata or output)")
		return b.String()
	}
	if len(d.Formats) == 0 {
		b.WriteString("\n    offers no formats")
	}
	for _, f := range d.Formats {
		fmt.Fprintf(&b, "\n    %-4v %q", f.Format, f.Description)
		if !f.Format.Convertible() {
			b.WriteString(" (not streamed)")
		}
		b.WriteString(": ")
		b.WriteString(f.sizesString())
	}
	return b.String()
}

// sizesString lists a format's sizes and rates: "640x480@30/15,
// 1280x720@15".
func (f FormatInfo) sizesString() string {
	if r := f.SizeRange; r != nil {
		return fmt.Sprintf("any size from %dx%d to %dx%d in steps of %dx%d",
			r.MinWidth, r.MinHeight, r.MaxWidth, r.MaxHeight, r.StepWidth, r.StepHeight)
	}
	parts := make([]string, 0, len(f.Sizes))
	for _, s := range f.Sizes {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ", ")
}

// String gives the size and rates: "640x480@30/15/6", "640x480@5-30" for
// any rate in a range, or "640x480" when the driver lists no rates.
func (s SizeInfo) String() string {
	out := fmt.Sprintf("%dx%d", s.Width, s.Height)
	if len(s.FPS) == 0 {
		return out
	}
	rates := make([]string, len(s.FPS))
	for i, r := range s.FPS {
		rates[i] = formatFPS(r)
	}
	if s.AnyFPS && len(rates) == 2 {
		return out + "@" + rates[1] + "-" + rates[0]
	}
	return out + "@" + strings.Join(rates, "/")
}

func formatFPS(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// offer is what enumeration learns about one format, kept with the exact
// frame intervals for negotiation.
type offer struct {
	info  FormatInfo
	flags uint32
	sizes []offerSize
}

// offerSize is one size with its frame intervals: discrete ones, or a
// [min, max] range when anyRate.
type offerSize struct {
	w, h    int
	ivals   []v4l2Fract
	anyRate bool
}

func (f v4l2Fract) fps() float64 {
	if f.numerator == 0 {
		return 0
	}
	return float64(f.denominator) / float64(f.numerator)
}

// queryCap reads the node's capabilities.
func queryCap(dev device, path string) (DeviceInfo, uint32, error) {
	var c v4l2Capability
	if err := dev.ioctl(vidiocQuerycap, unsafe.Pointer(&c)); err != nil {
		return DeviceInfo{Path: path}, 0, setupErr(path, "query capabilities", err)
	}
	caps := c.capabilities
	if caps&capDeviceCaps != 0 {
		caps = c.deviceCaps
	}
	info := DeviceInfo{
		Path: path, Card: cstring(c.card[:]), Driver: cstring(c.driver[:]), BusInfo: cstring(c.busInfo[:]),
		Capture: caps&capVideoCapture != 0,
	}
	return info, caps, nil
}

// enumerate lists the formats, sizes and intervals a capture node offers.
// For a format whose sizes are a range it adds the size nearest to want
// (a size the driver takes), with that size's intervals.
func enumerate(dev device, path string, wantW, wantH int) ([]offer, error) {
	var offers []offer
	for i := uint32(0); i < 256; i++ {
		d := v4l2Fmtdesc{index: i, typ: bufTypeVideoCapture}
		if err := dev.ioctl(vidiocEnumFmt, unsafe.Pointer(&d)); err != nil {
			if errors.Is(err, syscall.EINVAL) {
				break // past the last format
			}
			return nil, setupErr(path, "list formats", err)
		}
		o := offer{flags: d.flags, info: FormatInfo{Format: FourCC(d.pixelformat), Description: cstring(d.description[:])}}
		if err := enumSizes(dev, path, &o, wantW, wantH); err != nil {
			return nil, err
		}
		offers = append(offers, o)
	}
	return offers, nil
}

func enumSizes(dev device, path string, o *offer, wantW, wantH int) error {
	for i := uint32(0); i < 256; i++ {
		s := v4l2Frmsizeenum{index: i, pixelFormat: uint32(o.info.Format)}
		if err := dev.ioctl(vidiocEnumFramesizes, unsafe.Pointer(&s)); err != nil {
			if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY) {
				return nil // past the last size, or a driver that lists none
			}
			return setupErr(path, "list frame sizes", err)
		}
		if s.typ == frmsizeDiscrete {
			if err := addSize(dev, path, o, int(s.u[0]), int(s.u[1])); err != nil {
				return err
			}
			continue
		}
		// Stepwise or continuous: the whole range in one entry.
		r := &SizeRange{MinWidth: int(s.u[0]), MaxWidth: int(s.u[1]), StepWidth: int(s.u[2]),
			MinHeight: int(s.u[3]), MaxHeight: int(s.u[4]), StepHeight: int(s.u[5])}
		if s.typ == frmsizeContinuous || r.StepWidth <= 0 || r.StepHeight <= 0 {
			r.StepWidth, r.StepHeight = 1, 1
		}
		o.info.SizeRange = r
		return addSize(dev, path, o, inRange(wantW, r.MinWidth, r.MaxWidth, r.StepWidth), inRange(wantH, r.MinHeight, r.MaxHeight, r.StepHeight))
	}
	return nil
}

// inRange returns the value nearest to v among lo, lo+step, ... hi.
func inRange(v, lo, hi, step int) int {
	v = min(max(v, lo), hi)
	return lo + (v-lo+step/2)/step*step
}

// addSize records one size with its frame intervals.
func addSize(dev device, path string, o *offer, w, h int) error {
	sz := offerSize{w: w, h: h}
	for i := uint32(0); i < 256; i++ {
		iv := v4l2Frmivalenum{index: i, pixelFormat: uint32(o.info.Format), width: uint32(w), height: uint32(h)}
		if err := dev.ioctl(vidiocEnumFrameintervals, unsafe.Pointer(&iv)); err != nil {
			if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY) {
				break
			}
			return setupErr(path, "list frame intervals", err)
		}
		if iv.typ == frmivalDiscrete {
			if iv.u[0].numerator != 0 && iv.u[0].denominator != 0 {
				sz.ivals = append(sz.ivals, iv.u[0])
			}
			continue
		}
		// A range of intervals: min (fastest) and max (slowest).
		if iv.u[0].numerator != 0 && iv.u[1].numerator != 0 {
			sz.ivals, sz.anyRate = []v4l2Fract{iv.u[0], iv.u[1]}, true
		}
		break
	}
	slices.SortStableFunc(sz.ivals, func(a, b v4l2Fract) int {
		return -cmpFloat(a.fps(), b.fps())
	})
	o.sizes = append(o.sizes, sz)
	info := SizeInfo{Width: w, Height: h, AnyFPS: sz.anyRate}
	for _, iv := range sz.ivals {
		info.FPS = append(info.FPS, iv.fps())
	}
	if o.info.SizeRange == nil {
		o.info.Sizes = append(o.info.Sizes, info)
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// describe reads a node for List.
func describe(sys system, path string) DeviceInfo {
	dev, err := sys.open(path)
	if err != nil {
		return DeviceInfo{Path: path, Err: openErr(path, err)}
	}
	defer dev.close()
	info, _, err := queryCap(dev, path)
	if err != nil {
		info.Err = err
		return info
	}
	if !info.Capture {
		return info
	}
	offers, err := enumerate(dev, path, 640, 480)
	if err != nil {
		info.Err = err
		return info
	}
	for _, o := range offers {
		info.Formats = append(info.Formats, o.info)
	}
	return info
}

// List describes every V4L2 video node, /dev/video* in numeric order. A
// node that cannot be read is listed with its Err set. A machine with no
// nodes gives an empty list; on systems other than Linux List returns
// ErrNotSupported.
func List() ([]DeviceInfo, error) { return list(hostSystem()) }

func list(sys system) ([]DeviceInfo, error) {
	paths, err := sys.nodes()
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, 0, len(paths))
	for _, p := range paths {
		out = append(out, describe(sys, p))
	}
	return out, nil
}

// Find returns the first node, in /dev/video order, whose card name
// contains name (ignoring case) and that a [Camera] can stream from. For
// "RealSense" that is the colour node: the camera's depth and infrared
// nodes offer only formats that are not colour video (Z16, GREY, Y8I),
// and its metadata nodes are not capture nodes. It fails with ErrNoDevice,
// naming the nodes it saw, when none matches.
func Find(name string) (DeviceInfo, error) { return find(hostSystem(), name) }

func find(sys system, name string) (DeviceInfo, error) {
	return findBy(sys, name, DeviceInfo.Streamable, "colour camera", "no colour format")
}

// FindDepth returns the first node, in /dev/video order, whose card name
// contains name (ignoring case) and that offers Z16 depth: for
// "RealSense", the depth node, to open with Config.Formats {Z16}. It
// fails with ErrNoDevice, naming the nodes it saw, when none matches.
func FindDepth(name string) (DeviceInfo, error) { return findDepth(hostSystem(), name) }

func findDepth(sys system, name string) (DeviceInfo, error) {
	return findBy(sys, name, DeviceInfo.HasDepth, "depth camera", "no Z16 depth")
}

// findBy returns the first node whose card contains name and that ok
// accepts; what names such a node and lacks what the others lack, for
// the error.
func findBy(sys system, name string, ok func(DeviceInfo) bool, what, lacks string) (DeviceInfo, error) {
	devs, err := list(sys)
	if err != nil {
		return DeviceInfo{}, err
	}
	if len(devs) == 0 {
		return DeviceInfo{}, fmt.Errorf("%w: no camera named %q: no video nodes (/dev/video*) on this machine", ErrNoDevice, name)
	}
	var seen []string
	for _, d := range devs {
		if d.Err == nil && ok(d) && strings.Contains(strings.ToLower(d.Card), strings.ToLower(name)) {
			return d, nil
		}
		switch {
		case d.Err != nil:
			seen = append(seen, fmt.Sprintf("%s (%v)", d.Path, d.Err))
		case !ok(d):
			seen = append(seen, fmt.Sprintf("%s %q (%s)", d.Path, d.Card, lacks))
		default:
			seen = append(seen, fmt.Sprintf("%s %q", d.Path, d.Card))
		}
	}
	return DeviceInfo{}, fmt.Errorf("%w: no %s named %q among %s", ErrNoDevice, what, name, strings.Join(seen, ", "))
}
