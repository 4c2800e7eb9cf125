package v4l2

import "unsafe"

// The kernel's V4L2 interface (linux/videodev2.h): the structs this package
// passes to ioctl, laid out as the C compiler lays them out on every Linux
// architecture Go supports, and the request numbers built from their sizes.
// Nothing here makes a system call, so it builds everywhere and the fake
// device in the tests speaks the same structs.

const (
	bufTypeVideoCapture = 1
	memoryMMAP          = 1
	fieldNone           = 1

	capVideoCapture       = 0x00000001
	capVideoCaptureMPlane = 0x00001000
	capMetaCapture        = 0x00800000
	capStreaming          = 0x04000000
	capDeviceCaps         = 0x80000000

	capTimePerFrame = 0x1000 // in captureparm.capability

	fmtFlagCompressed = 0x1
	fmtFlagEmulated   = 0x2

	frmsizeDiscrete   = 1
	frmsizeContinuous = 2
	frmsizeStepwise   = 3

	frmivalDiscrete   = 1
	frmivalContinuous = 2
	frmivalStepwise   = 3

	bufFlagError              = 0x00000040
	bufFlagTimestampMask      = 0x0000e000
	bufFlagTimestampMonotonic = 0x00002000
)

// v4l2Capability is struct v4l2_capability (VIDIOC_QUERYCAP).
type v4l2Capability struct {
	driver       [16]byte
	card         [32]byte
	busInfo      [32]byte
	version      uint32
	capabilities uint32
	deviceCaps   uint32
	reserved     [3]uint32
}

// v4l2Fmtdesc is struct v4l2_fmtdesc (VIDIOC_ENUM_FMT).
type v4l2Fmtdesc struct {
	index       uint32
	typ         uint32
	flags       uint32
	description [32]byte
	pixelformat uint32
	mbusCode    uint32
	reserved    [3]uint32
}

// v4l2PixFormat is struct v4l2_pix_format.
type v4l2PixFormat struct {
	width        uint32
	height       uint32
	pixelformat  uint32
	field        uint32
	bytesperline uint32
	sizeimage    uint32
	colorspace   uint32
	priv         uint32
	flags        uint32
	ycbcrEnc     uint32
	quantization uint32
	xferFunc     uint32
}

// v4l2Format is struct v4l2_format (VIDIOC_S_FMT). Its union holds
// pointers (struct v4l2_window), so it is pointer-aligned: 208 bytes on
// 64-bit systems, 204 on 32-bit ones.
type v4l2Format struct {
	typ uint32
	fmt struct {
		_   [0]uintptr
		pix v4l2PixFormat
		_   [200 - unsafe.Sizeof(v4l2PixFormat{})]byte
	}
}

// v4l2Fract is struct v4l2_fract.
type v4l2Fract struct{ numerator, denominator uint32 }

// v4l2Frmsizeenum is struct v4l2_frmsizeenum (VIDIOC_ENUM_FRAMESIZES). The
// union is either discrete (width, height) or stepwise (min_width,
// max_width, step_width, min_height, max_height, step_height).
type v4l2Frmsizeenum struct {
	index       uint32
	pixelFormat uint32
	typ         uint32
	u           [6]uint32
	reserved    [2]uint32
}

// v4l2Frmivalenum is struct v4l2_frmivalenum
// (VIDIOC_ENUM_FRAMEINTERVALS). The union is either one discrete interval
// or a stepwise min, max and step.
type v4l2Frmivalenum struct {
	index       uint32
	pixelFormat uint32
	width       uint32
	height      uint32
	typ         uint32
	u           [3]v4l2Fract
	reserved    [2]uint32
}

// v4l2Requestbuffers is struct v4l2_requestbuffers (VIDIOC_REQBUFS).
type v4l2Requestbuffers struct {
	count        uint32
	typ          uint32
	memory       uint32
	capabilities uint32
	flags        uint8
	reserved     [3]uint8
}

// timeval is struct timeval: two C longs, which on Linux are Go ints.
type timeval struct{ sec, usec int }

// v4l2Timecode is struct v4l2_timecode.
type v4l2Timecode struct {
	typ      uint32
	flags    uint32
	frames   uint8
	seconds  uint8
	minutes  uint8
	hours    uint8
	userbits [4]uint8
}

// v4l2Buffer is struct v4l2_buffer (VIDIOC_QUERYBUF, QBUF, DQBUF): 88
// bytes on 64-bit systems, 68 on 32-bit ones. Of the union m only the
// mmap offset is used; it sits at the union's start whatever the byte
// order, and the union is as wide as a pointer.
type v4l2Buffer struct {
	index     uint32
	typ       uint32
	bytesused uint32
	flags     uint32
	field     uint32
	timestamp timeval
	timecode  v4l2Timecode
	sequence  uint32
	memory    uint32
	offset    uint32 // m.offset
	_         [unsafe.Sizeof(uintptr(0)) - 4]byte
	length    uint32
	reserved2 uint32
	requestFD int32
}

// v4l2Captureparm is struct v4l2_captureparm.
type v4l2Captureparm struct {
	capability   uint32
	capturemode  uint32
	timeperframe v4l2Fract
	extendedmode uint32
	readbuffers  uint32
	reserved     [4]uint32
}

// v4l2Streamparm is struct v4l2_streamparm (VIDIOC_S_PARM) for a capture
// queue.
type v4l2Streamparm struct {
	typ     uint32
	capture v4l2Captureparm
	_       [200 - unsafe.Sizeof(v4l2Captureparm{})]byte
}

// The requests this package makes: direction, size of the argument, the
// 'V' group and the request's number, as _IOR and _IOWR build them.
const (
	iocRW = iocRead | iocWrite

	vidiocQuerycap           = iocRead<<iocDirShift | unsafe.Sizeof(v4l2Capability{})<<iocSizeShift | 'V'<<8 | 0
	vidiocEnumFmt            = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Fmtdesc{})<<iocSizeShift | 'V'<<8 | 2
	vidiocSFmt               = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Format{})<<iocSizeShift | 'V'<<8 | 5
	vidiocReqbufs            = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Requestbuffers{})<<iocSizeShift | 'V'<<8 | 8
	vidiocQuerybuf           = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Buffer{})<<iocSizeShift | 'V'<<8 | 9
	vidiocQbuf               = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Buffer{})<<iocSizeShift | 'V'<<8 | 15
	vidiocDqbuf              = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Buffer{})<<iocSizeShift | 'V'<<8 | 17
	vidiocStreamon           = iocWrite<<iocDirShift | unsafe.Sizeof(int32(0))<<iocSizeShift | 'V'<<8 | 18
	vidiocStreamoff          = iocWrite<<iocDirShift | unsafe.Sizeof(int32(0))<<iocSizeShift | 'V'<<8 | 19
	vidiocSParm              = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Streamparm{})<<iocSizeShift | 'V'<<8 | 22
	vidiocEnumFramesizes     = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Frmsizeenum{})<<iocSizeShift | 'V'<<8 | 74
	vidiocEnumFrameintervals = iocRW<<iocDirShift | unsafe.Sizeof(v4l2Frmivalenum{})<<iocSizeShift | 'V'<<8 | 75
)

// cstring returns a NUL-terminated C string from a fixed-size field.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
