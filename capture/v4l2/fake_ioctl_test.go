package v4l2

import (
	"math"
	"syscall"
	"time"
	"unsafe"
)

// The fake device's request handling: the ioctls a driver answers, with
// the rules it enforces on buffers and formats.

// fakeFile is one open file of a fake device.
type fakeFile struct {
	d      *fakeDevice
	wakeC  chan struct{}
	closed bool
}

func (f *fakeFile) ioctl(req uintptr, arg unsafe.Pointer) error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if f.closed {
		d.violate("ioctl %#x on a closed file", req)
		return syscall.EBADF
	}
	if d.gone {
		return syscall.ENODEV
	}
	if e, ok := d.fail[req]; ok {
		return e
	}
	switch req {
	case vidiocQuerycap:
		c := (*v4l2Capability)(arg)
		*c = v4l2Capability{}
		copy(c.driver[:], d.driver)
		copy(c.card[:31], d.card)
		copy(c.busInfo[:], d.bus)
		c.deviceCaps = d.capsOrDefault()
		c.capabilities = c.deviceCaps | capDeviceCaps
		return nil
	case vidiocEnumFmt:
		fd := (*v4l2Fmtdesc)(arg)
		if fd.typ != bufTypeVideoCapture || d.capsOrDefault()&capVideoCapture == 0 || int(fd.index) >= len(d.formats) {
			return syscall.EINVAL
		}
		ff := d.formats[fd.index]
		fd.pixelformat = uint32(ff.fourcc)
		fd.flags = 0
		if ff.fourcc.compressed() {
			fd.flags = fmtFlagCompressed
		}
		copy(fd.description[:31], ff.desc)
		return nil
	case vidiocEnumFramesizes:
		fs := (*v4l2Frmsizeenum)(arg)
		ff, ok := d.format(FourCC(fs.pixelFormat))
		if !ok {
			return syscall.EINVAL
		}
		if r := ff.stepwise; r != nil {
			if fs.index != 0 {
				return syscall.EINVAL
			}
			fs.typ = frmsizeStepwise
			fs.u = [6]uint32{uint32(r.MinWidth), uint32(r.MaxWidth), uint32(r.StepWidth), uint32(r.MinHeight), uint32(r.MaxHeight), uint32(r.StepHeight)}
			return nil
		}
		if int(fs.index) >= len(ff.sizes) {
			return syscall.EINVAL
		}
		s := ff.sizes[fs.index]
		fs.typ = frmsizeDiscrete
		fs.u = [6]uint32{uint32(s.w), uint32(s.h)}
		return nil
	case vidiocEnumFrameintervals:
		fi := (*v4l2Frmivalenum)(arg)
		ff, ok := d.format(FourCC(fi.pixelFormat))
		if !ok {
			return syscall.EINVAL
		}
		if ff.stepwise != nil {
			if fi.index != 0 || len(ff.rates) != 2 {
				return syscall.EINVAL
			}
			fi.typ = frmivalContinuous
			fi.u = [3]v4l2Fract{{1, uint32(ff.rates[0])}, {1, uint32(ff.rates[1])}, {1, 1}}
			return nil
		}
		s, ok := ff.size(int(fi.width), int(fi.height))
		if !ok || int(fi.index) >= len(s.fps) {
			return syscall.EINVAL
		}
		fi.typ = frmivalDiscrete
		fi.u[0] = fpsFract(s.fps[fi.index])
		return nil
	case vidiocSFmt:
		if d.owner != nil && (d.owner != f || len(d.bufs) > 0) {
			return syscall.EBUSY
		}
		fm := (*v4l2Format)(arg)
		if fm.typ != bufTypeVideoCapture {
			return syscall.EINVAL
		}
		d.setFormat(&fm.fmt.pix)
		return nil
	case vidiocSParm:
		if d.noParm {
			return syscall.ENOTTY
		}
		sp := (*v4l2Streamparm)(arg)
		want := sp.capture.timeperframe.fps()
		ff, _ := d.format(FourCC(d.cur.pixelformat))
		best := v4l2Fract{}
		if s, ok := ff.size(int(d.cur.width), int(d.cur.height)); ok {
			for _, r := range s.fps {
				if iv := fpsFract(r); best.numerator == 0 || math.Abs(iv.fps()-want) < math.Abs(best.fps()-want) {
					best = iv
				}
			}
		} else if ff.stepwise != nil {
			best = v4l2Fract{1, uint32(min(max(int(want+0.5), ff.rates[1]), ff.rates[0]))}
		}
		d.ival = best
		sp.capture.capability = capTimePerFrame
		sp.capture.timeperframe = best
		return nil
	case vidiocReqbufs:
		rb := (*v4l2Requestbuffers)(arg)
		if d.owner != nil && d.owner != f {
			return syscall.EBUSY
		}
		if rb.memory != memoryMMAP || rb.typ != bufTypeVideoCapture {
			return syscall.EINVAL
		}
		if d.streaming {
			return syscall.EBUSY
		}
		for _, b := range d.bufs {
			if b.mapped > 0 {
				return syscall.EBUSY
			}
		}
		n := int(rb.count)
		if d.maxBuffers > 0 {
			n = min(n, d.maxBuffers)
		}
		d.bufs = nil
		size := int(d.cur.sizeimage)
		for range n {
			d.bufs = append(d.bufs, &fakeBuf{mem: make([]byte, size)})
		}
		rb.count = uint32(n)
		d.owner = f
		if n == 0 {
			d.owner = nil
		}
		return nil
	case vidiocQuerybuf, vidiocQbuf, vidiocDqbuf:
		if d.owner != f {
			return syscall.EBUSY
		}
		b := (*v4l2Buffer)(arg)
		if b.typ != bufTypeVideoCapture || b.memory != memoryMMAP {
			return syscall.EINVAL
		}
		return d.bufferIoctl(req, b)
	case vidiocStreamon, vidiocStreamoff:
		if d.owner != f {
			return syscall.EBUSY
		}
		if *(*int32)(arg) != bufTypeVideoCapture {
			return syscall.EINVAL
		}
		if req == vidiocStreamoff {
			d.stopStream()
			return nil
		}
		if len(d.bufs) == 0 {
			return syscall.EINVAL
		}
		d.streaming = true
		if d.interval > 0 {
			d.ticker = time.NewTicker(d.interval)
		}
		return nil
	}
	d.violate("unknown request %#x", req)
	return syscall.ENOTTY
}

// stopStream takes every buffer back from the driver, as STREAMOFF does.
func (d *fakeDevice) stopStream() {
	d.streaming = false
	for _, b := range d.bufs {
		b.queued, b.done = false, false
	}
	d.doneList = nil
	if d.ticker != nil {
		d.ticker.Stop()
		d.ticker = nil
	}
}

func (d *fakeDevice) bufferIoctl(req uintptr, b *v4l2Buffer) error {
	switch req {
	case vidiocDqbuf:
		if !d.streaming {
			return syscall.EINVAL
		}
		if len(d.doneList) == 0 {
			return syscall.EAGAIN
		}
		i := d.doneList[0]
		d.doneList = d.doneList[1:]
		fb := d.bufs[i]
		fb.done = false
		*b = v4l2Buffer{index: uint32(i), typ: bufTypeVideoCapture, memory: memoryMMAP, bytesused: fb.bytesused,
			flags: fb.flags | bufFlagTimestampMonotonic, field: fieldNone, sequence: fb.seq, length: uint32(len(fb.mem))}
		b.timestamp = timeval{sec: int(fb.ts / time.Second), usec: int(fb.ts % time.Second / time.Microsecond)}
		b.offset = uint32(i) << 16
		return nil
	}
	if int(b.index) >= len(d.bufs) {
		return syscall.EINVAL
	}
	fb := d.bufs[b.index]
	switch req {
	case vidiocQuerybuf:
		b.length = uint32(len(fb.mem))
		b.offset = b.index << 16
		return nil
	default: // QBUF
		if fb.queued || fb.done {
			d.violate("QBUF of buffer %d, which the driver holds", b.index)
			return syscall.EINVAL
		}
		fb.queued = true
		return nil
	}
}

func (d *fakeDevice) format(f FourCC) (fakeFormat, bool) {
	for _, ff := range d.formats {
		if ff.fourcc == f {
			return ff, true
		}
	}
	return fakeFormat{}, false
}

func (ff fakeFormat) size(w, h int) (fakeSize, bool) {
	for _, s := range ff.sizes {
		if s.w == w && s.h == h {
			return s, true
		}
	}
	return fakeSize{}, false
}

// fpsFract is the frame interval of a rate; 2997 stands for NTSC's
// 30000/1001.
func fpsFract(fps int) v4l2Fract {
	if fps == 2997 {
		return v4l2Fract{1001, 30000}
	}
	return v4l2Fract{1, uint32(fps)}
}

// setFormat adjusts a requested format to one the device offers, as a
// driver does (it never refuses), and fills in the layout.
func (d *fakeDevice) setFormat(p *v4l2PixFormat) {
	ff, ok := d.format(FourCC(p.pixelformat))
	if !ok {
		ff = d.formats[0]
	}
	w, h := int(p.width), int(p.height)
	if ff.stepwise != nil {
		r := ff.stepwise
		w, h = inRange(w, r.MinWidth, r.MaxWidth, r.StepWidth), inRange(h, r.MinHeight, r.MaxHeight, r.StepHeight)
	} else if _, ok := ff.size(w, h); !ok {
		w, h = ff.sizes[0].w, ff.sizes[0].h
	}
	if d.forceSize != nil {
		w, h = d.forceSize[0], d.forceSize[1]
	}
	*p = v4l2PixFormat{width: uint32(w), height: uint32(h), pixelformat: uint32(ff.fourcc), field: fieldNone}
	if row := rowBytes(ff.fourcc, w); row > 0 {
		p.bytesperline = uint32(row + d.pad)
		p.sizeimage = p.bytesperline * uint32(h)
		if ff.fourcc == NV12 {
			p.sizeimage += p.bytesperline * uint32((h+1)/2)
		}
	} else {
		p.sizeimage = uint32(w * h * 2)
	}
	d.cur = *p
	d.ival = v4l2Fract{}
}
