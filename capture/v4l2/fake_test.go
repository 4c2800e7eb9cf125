package v4l2

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/avlink/avlink/capture"
)

// The scripted fake device: a stand-in for the kernel and a camera's
// driver behind the system seam, speaking the same V4L2 structs and
// request numbers and keeping the rules a driver enforces (one owner of
// the buffer queue, no S_FMT while buffers exist, QBUF only of a buffer
// the caller holds), so the Camera's own code runs exactly as it does on
// a real node. Frames arrive when the test says so (step), or on a real
// ticker for benchmarks (interval).

// fakeSystem holds fake devices by path.
type fakeSystem struct {
	devs    map[string]*fakeDevice
	paths   []string
	openErr map[string]error
}

func newFakeSystem(devs ...*fakeDevice) *fakeSystem {
	s := &fakeSystem{devs: map[string]*fakeDevice{}, openErr: map[string]error{}}
	for _, d := range devs {
		s.devs[d.path] = d
		s.paths = append(s.paths, d.path)
	}
	return s
}

func (s *fakeSystem) nodes() ([]string, error) { return slices.Clone(s.paths), nil }

func (s *fakeSystem) open(path string) (device, error) {
	if err := s.openErr[path]; err != nil {
		return nil, err
	}
	d, ok := s.devs[path]
	if !ok {
		return nil, syscall.ENOENT
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gone {
		return nil, syscall.ENODEV
	}
	d.openFiles++
	return &fakeFile{d: d, wakeC: make(chan struct{}, 1)}, nil
}

type fakeFormat struct {
	fourcc FourCC
	desc   string
	sizes  []fakeSize
	// stepwise, when set, replaces sizes: any size in the range, at
	// rates (a continuous interval range from rates[0] down to rates[1]).
	stepwise *SizeRange
	rates    []int
}

type fakeSize struct {
	w, h int
	fps  []int
}

// fakeStep is one scripted event, consumed by the next wait.
type fakeStep struct {
	kind  string // "deliver", "flagged", "short", "garbage", "stall", "unplug", "sync"
	n     int
	bytes []byte // "garbage": the frame's bytes
}

type fakeBuf struct {
	mem       []byte
	queued    bool
	done      bool
	mapped    int
	bytesused uint32
	flags     uint32
	seq       uint32
	ts        time.Duration
	filled    bool
}

// fakeDevice is one camera node and its driver.
type fakeDevice struct {
	path, card, driver, bus string
	caps                    uint32 // device caps; 0 means video capture with streaming
	formats                 []fakeFormat
	pad                     int                       // bytes of padding after each row of uncompressed formats
	fail                    map[uintptr]syscall.Errno // requests that fail
	maxBuffers              int                       // 0: as many as asked
	noParm                  bool                      // no S_PARM: the driver keeps its own rate
	forceSize               *[2]int                   // S_FMT sets this size whatever is asked
	lag                     time.Duration             // how old a frame is when the reader's clock is read
	stripDHT                bool                      // MJPEG frames without Huffman tables
	static                  bool                      // fill each buffer once (benchmarks)
	interval                time.Duration             // > 0: a frame every interval, on a real ticker
	picture                 func(seq uint32, f FourCC, w, h, stride int) []byte

	script chan fakeStep

	mu         sync.Mutex
	owner      *fakeFile
	cur        v4l2PixFormat
	ival       v4l2Fract
	bufs       []*fakeBuf
	doneList   []int
	streaming  bool
	seq        uint32
	mono       time.Duration
	gone       bool
	openFiles  int
	violations []string
	ticker     *time.Ticker
	frames     int // frames filled
}

func (d *fakeDevice) violate(format string, args ...any) {
	d.violations = append(d.violations, fmt.Sprintf(format, args...))
}

// check fails t if the camera broke a driver rule or left anything held.
func (d *fakeDevice) checkReleased(t testing.TB) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.violations) > 0 {
		t.Errorf("%s: driver rules broken: %v", d.path, d.violations)
	}
	if d.openFiles != 0 {
		t.Errorf("%s: %d files still open", d.path, d.openFiles)
	}
	for i, b := range d.bufs {
		if b.mapped != 0 {
			t.Errorf("%s: buffer %d still mapped %d times", d.path, i, b.mapped)
		}
	}
	if d.streaming {
		t.Errorf("%s: still streaming", d.path)
	}
}

// step hands one scripted event to the capture goroutine's next wait and
// returns once that event has been handled in full.
func (d *fakeDevice) step(t testing.TB, s fakeStep) {
	t.Helper()
	for _, st := range []fakeStep{s, {kind: "sync"}} {
		if st.kind == "sync" && (s.kind == "unplug" || s.kind == "stall") {
			return // the capture goroutine ends; nobody waits again
		}
		select {
		case d.script <- st:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nobody waits for frames (step %q)", d.path, st.kind)
		}
	}
}

func (d *fakeDevice) capsOrDefault() uint32 {
	if d.caps == 0 {
		return capVideoCapture | capStreaming
	}
	return d.caps
}

// rowBytes is the tight row length of an uncompressed format.
func rowBytes(f FourCC, w int) int {
	switch f {
	case YUYV:
		return 4 * ((w + 1) / 2)
	case NV12:
		return w
	case RGB24, BGR24:
		return 3 * w
	}
	return 0
}

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

func (f *fakeFile) mmap(offset uint32, length int) ([]byte, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	i := int(offset >> 16)
	if d.owner != f || offset&0xffff != 0 || i >= len(d.bufs) || length > len(d.bufs[i].mem) {
		d.violate("mmap of offset %#x length %d", offset, length)
		return nil, syscall.EINVAL
	}
	d.bufs[i].mapped++
	return d.bufs[i].mem[:length:length], nil
}

func (f *fakeFile) munmap(b []byte) error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, fb := range d.bufs {
		if len(b) > 0 && &fb.mem[0] == &b[0] && fb.mapped > 0 {
			fb.mapped--
			return nil
		}
	}
	d.violate("munmap of memory that is not mapped")
	return syscall.EINVAL
}

func (f *fakeFile) wake() {
	select {
	case f.wakeC <- struct{}{}:
	default:
	}
}

func (f *fakeFile) now() time.Duration {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	return f.d.mono + f.d.lag
}

func (f *fakeFile) close() error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if f.closed {
		d.violate("close of a closed file")
		return syscall.EBADF
	}
	f.closed = true
	d.openFiles--
	if d.owner == f {
		// Closing the file frees the queue, as the kernel does; memory
		// still mapped stays valid until it is unmapped.
		d.stopStream()
		d.owner = nil
	}
	return nil
}

// wait is poll: ready while a finished buffer waits, otherwise it blocks
// for the next scripted step, tick or wake.
func (f *fakeFile) wait(time.Duration) (event, error) {
	d := f.d
	for {
		d.mu.Lock()
		gone, ready, streaming := d.gone, len(d.doneList) > 0, d.streaming
		var tick <-chan time.Time
		if d.ticker != nil {
			tick = d.ticker.C
		}
		d.mu.Unlock()
		switch {
		case gone:
			return evError, nil
		case !streaming:
			d.mu.Lock()
			d.violate("wait while not streaming")
			d.mu.Unlock()
			return evError, nil
		case ready:
			return evReady, nil
		}
		select {
		case <-f.wakeC:
			return evWoken, nil
		case <-tick:
			d.mu.Lock()
			d.fill(1, 0)
			d.mu.Unlock()
			return evReady, nil
		case s := <-d.script:
			d.mu.Lock()
			ev := d.apply(s)
			d.mu.Unlock()
			if ev != 0 {
				return ev, nil
			}
		}
	}
}

// apply carries out a scripted step; 0 means: keep waiting.
func (d *fakeDevice) apply(s fakeStep) event {
	switch s.kind {
	case "sync":
		return 0
	case "stall":
		return evTimeout
	case "unplug":
		d.gone = true
		return evError
	case "deliver":
		d.fill(s.n, 0)
	case "flagged":
		d.fill(s.n, bufFlagError)
	case "short":
		d.fillWith(func(b *fakeBuf) { b.bytesused = 10 })
	case "garbage":
		d.fillWith(func(b *fakeBuf) { b.bytesused = uint32(copy(b.mem, s.bytes)) })
	default:
		d.violate("unknown step %q", s.kind)
	}
	return evReady
}

// fill finishes n frames into queued buffers; a frame with no buffer
// queued is dropped, leaving a gap in the sequence, as drivers do.
func (d *fakeDevice) fill(n int, flags uint32) {
	for range n {
		d.fillWith(func(b *fakeBuf) {
			b.flags = flags
			if d.static && b.filled {
				return
			}
			w, h := int(d.cur.width), int(d.cur.height)
			data := d.content(b.seq, FourCC(d.cur.pixelformat), w, h, int(d.cur.bytesperline))
			b.bytesused = uint32(copy(b.mem, data))
			b.filled = true
		})
	}
}

func (d *fakeDevice) fillWith(set func(*fakeBuf)) {
	d.mono += 33 * time.Millisecond
	d.frames++
	seq := d.seq
	d.seq++
	for _, b := range d.bufs {
		if b.queued {
			b.queued, b.done = false, true
			b.seq, b.ts, b.flags = seq, d.mono, 0
			set(b)
			d.doneList = append(d.doneList, slices.Index(d.bufs, b))
			return
		}
	}
}

func (d *fakeDevice) content(seq uint32, f FourCC, w, h, stride int) []byte {
	if d.picture != nil {
		return d.picture(seq, f, w, h, stride)
	}
	data := devicePicture(refPicture(seq, w, h), f, stride)
	if f.compressed() && d.stripDHT {
		data = stripDHT(data)
	}
	return data
}

// refPicture is a deterministic I420 picture for frame seq: gradients
// that move with seq, so every frame differs and every byte matters.
func refPicture(seq uint32, w, h int) *capture.VideoFrame {
	f := &capture.VideoFrame{Format: capture.FormatI420, Width: w, Height: h, Data: make([]byte, capture.FormatI420.FrameSize(w, h))}
	y, u, v := capture.I420Planes(f)
	s := int(seq)
	for py := range h {
		for px := range w {
			y[py*w+px] = byte(16 + (px*3+py*2+s*7)%220)
		}
	}
	cw := (w + 1) / 2
	for i := range u {
		cx, cy := i%cw, i/cw
		u[i] = byte(16 + (cx*5+cy+s*3)%225)
		v[i] = byte(16 + (cx+cy*4+s*11)%225)
	}
	return f
}

// devicePicture lays out an I420 picture as the device sends it, with
// rows stride bytes apart (padding filled with 0xee) for uncompressed
// formats, or as a JPEG.
func devicePicture(ref *capture.VideoFrame, f FourCC, stride int) []byte {
	w, h := ref.Width, ref.Height
	y, u, v := capture.I420Planes(ref)
	cw := (w + 1) / 2
	if f.compressed() {
		img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
		for py := range h {
			copy(img.Y[py*img.YStride:], y[py*w:(py+1)*w])
		}
		for cy := range (h + 1) / 2 {
			copy(img.Cb[cy*img.CStride:], u[cy*cw:(cy+1)*cw])
			copy(img.Cr[cy*img.CStride:], v[cy*cw:(cy+1)*cw])
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
			panic(err)
		}
		return b.Bytes()
	}
	rows := h
	if f == NV12 {
		rows += (h + 1) / 2
	}
	out := bytes.Repeat([]byte{0xee}, stride*rows)
	for py := range h {
		row := out[py*stride:]
		c := (py / 2) * cw
		for px := range w {
			switch f {
			case YUYV:
				row[2*px] = y[py*w+px]
				if px%2 == 0 {
					row[2*px+1] = u[c+px/2]
				} else {
					row[2*px+1] = v[c+px/2]
				}
			case NV12:
				row[px] = y[py*w+px]
			case RGB24, BGR24:
				r, g, b := yuvToRGB(y[py*w+px], u[c+px/2], v[c+px/2])
				if f == BGR24 {
					r, b = b, r
				}
				row[3*px], row[3*px+1], row[3*px+2] = r, g, b
			}
		}
	}
	if f == NV12 {
		for cy := range (h + 1) / 2 {
			row := out[(h+cy)*stride:]
			for cx := range cw {
				row[2*cx], row[2*cx+1] = u[cy*cw+cx], v[cy*cw+cx]
			}
		}
	}
	return out
}

// yuvToRGB is BT.601 limited range to RGB.
func yuvToRGB(y, u, v byte) (r, g, b byte) {
	c, d, e := int(y)-16, int(u)-128, int(v)-128
	clip := func(x int) byte { return byte(min(max((x+128)>>8, 0), 255)) }
	return clip(298*c + 409*e), clip(298*c - 100*d - 208*e), clip(298*c + 516*d)
}

// stripDHT removes the Huffman table segments from a JPEG, as many UVC
// cameras send MJPEG.
func stripDHT(data []byte) []byte {
	out := []byte{0xff, 0xd8}
	i := 2
	for i+4 <= len(data) {
		m := data[i+1]
		if m == 0xda {
			return append(out, data[i:]...)
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if m != 0xc4 {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
	return out
}
