package v4l2

import (
	"runtime"
	"testing"
	"unsafe"
)

// The layouts and request numbers match linux/videodev2.h as the C
// compiler sees it (the figures below were printed by a C program built
// against the kernel headers on x86-64; arm64 and riscv64 agree).
func TestABI(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		if got := unsafe.Sizeof(v4l2Buffer{}); got != 68 {
			t.Errorf("32-bit v4l2_buffer is %d bytes, want 68", got)
		}
		if got := unsafe.Sizeof(v4l2Format{}); got != 204 {
			t.Errorf("32-bit v4l2_format is %d bytes, want 204", got)
		}
		return
	}
	sizes := map[string][2]uintptr{
		"v4l2_capability":       {unsafe.Sizeof(v4l2Capability{}), 104},
		"v4l2_fmtdesc":          {unsafe.Sizeof(v4l2Fmtdesc{}), 64},
		"v4l2_format":           {unsafe.Sizeof(v4l2Format{}), 208},
		"v4l2_pix_format":       {unsafe.Sizeof(v4l2PixFormat{}), 48},
		"v4l2_frmsizeenum":      {unsafe.Sizeof(v4l2Frmsizeenum{}), 44},
		"v4l2_frmivalenum":      {unsafe.Sizeof(v4l2Frmivalenum{}), 52},
		"v4l2_requestbuffers":   {unsafe.Sizeof(v4l2Requestbuffers{}), 20},
		"v4l2_buffer":           {unsafe.Sizeof(v4l2Buffer{}), 88},
		"v4l2_streamparm":       {unsafe.Sizeof(v4l2Streamparm{}), 204},
		"v4l2_captureparm":      {unsafe.Sizeof(v4l2Captureparm{}), 40},
		"v4l2_buffer.timestamp": {unsafe.Offsetof(v4l2Buffer{}.timestamp), 24},
		"v4l2_buffer.sequence":  {unsafe.Offsetof(v4l2Buffer{}.sequence), 56},
		"v4l2_buffer.m":         {unsafe.Offsetof(v4l2Buffer{}.offset), 64},
		"v4l2_buffer.length":    {unsafe.Offsetof(v4l2Buffer{}.length), 72},
		"v4l2_format.fmt":       {unsafe.Offsetof(v4l2Format{}.fmt), 8},
		"v4l2_frmivalenum.u":    {unsafe.Offsetof(v4l2Frmivalenum{}.u), 20},
		"v4l2_frmsizeenum.u":    {unsafe.Offsetof(v4l2Frmsizeenum{}.u), 12},
	}
	for name, s := range sizes {
		if s[0] != s[1] {
			t.Errorf("%s: %d, want %d", name, s[0], s[1])
		}
	}
	switch runtime.GOARCH {
	case "amd64", "arm64", "riscv64", "loong64", "s390x":
	default:
		return
	}
	for name, r := range map[string][2]uintptr{
		"VIDIOC_QUERYCAP":            {vidiocQuerycap, 0x80685600},
		"VIDIOC_ENUM_FMT":            {vidiocEnumFmt, 0xc0405602},
		"VIDIOC_S_FMT":               {vidiocSFmt, 0xc0d05605},
		"VIDIOC_REQBUFS":             {vidiocReqbufs, 0xc0145608},
		"VIDIOC_QUERYBUF":            {vidiocQuerybuf, 0xc0585609},
		"VIDIOC_QBUF":                {vidiocQbuf, 0xc058560f},
		"VIDIOC_DQBUF":               {vidiocDqbuf, 0xc0585611},
		"VIDIOC_STREAMON":            {vidiocStreamon, 0x40045612},
		"VIDIOC_STREAMOFF":           {vidiocStreamoff, 0x40045613},
		"VIDIOC_S_PARM":              {vidiocSParm, 0xc0cc5616},
		"VIDIOC_ENUM_FRAMESIZES":     {vidiocEnumFramesizes, 0xc02c564a},
		"VIDIOC_ENUM_FRAMEINTERVALS": {vidiocEnumFrameintervals, 0xc034564b},
	} {
		if r[0] != r[1] {
			t.Errorf("%s = %#x, want %#x", name, r[0], r[1])
		}
	}
	for name, f := range map[string][2]FourCC{
		"V4L2_PIX_FMT_YUYV": {YUYV, 0x56595559}, "V4L2_PIX_FMT_MJPEG": {MJPEG, 0x47504a4d}, "V4L2_PIX_FMT_JPEG": {JPEG, 0x4745504a},
		"V4L2_PIX_FMT_NV12": {NV12, 0x3231564e}, "V4L2_PIX_FMT_RGB24": {RGB24, 0x33424752}, "V4L2_PIX_FMT_BGR24": {BGR24, 0x33524742},
	} {
		if f[0] != f[1] {
			t.Errorf("%s = %#x, want %#x", name, uint32(f[0]), uint32(f[1]))
		}
	}
}
