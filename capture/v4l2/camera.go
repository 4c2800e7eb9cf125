package v4l2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/framepool"
)

// Camera is a [capture.VideoSource] streaming from one V4L2 node. A
// goroutine of its own takes every frame from the driver as it arrives and
// keeps only the newest, handing the older one straight back, so the
// driver never runs out of buffers and a slow reader gets the latest
// picture rather than a queue of stale ones: latency never grows.
// ReadVideo converts that newest frame to I420, or for a depth node opened
// with Config.Formats {Z16} copies it out as capture.FormatZ16.
type Camera struct {
	cfg  Config
	log  *slog.Logger
	dev  device
	info DeviceInfo
	mode Mode

	// Set at open, read-only after.
	bufs    [][]byte
	raw     bool // uncompressed: pixfmt applies (FormatZ16 for depth); otherwise JPEG
	pixfmt  capture.PixelFormat
	stride  int // bytes per row of the Y (or only) plane, as the driver lays it out
	minUsed int // fewest bytes an uncompressed frame can take

	mu        sync.Mutex // guards the device's buffers and the fields below
	held      int        // the newest filled buffer nobody has read, or -1
	heldTime  time.Time
	heldUsed  int
	err       error // why the stream ended; io.EOF after Close
	scratch   []byte
	lastWarn  time.Time
	warnCount int

	free framepool.Pool // buffers handed back by RecycleVideo

	notify    chan struct{} // a frame is held
	done      chan struct{} // the capture goroutine has ended and released the device
	closing   atomic.Bool
	closeOnce sync.Once
	closeErr  error

	lastSeq   uint32
	haveSeq   bool
	captured  atomic.Int64
	delivered atomic.Int64
	replaced  atomic.Int64
	lost      atomic.Int64
	corrupt   atomic.Int64
}

// Stats counts a Camera's frames since it opened.
type Stats struct {
	// Captured is the frames the driver delivered.
	Captured int64
	// Delivered is the frames ReadVideo returned.
	Delivered int64
	// Replaced is the frames a newer one replaced before anyone read
	// them: the reader was slower than the camera.
	Replaced int64
	// Lost is the frames the driver dropped (gaps in its sequence
	// numbers), for want of a free buffer or through a USB problem.
	Lost int64
	// Corrupt is the frames skipped as damaged: flagged by the driver,
	// shorter than their format needs, or JPEG that does not decode.
	Corrupt int64
}

// Open opens the V4L2 node at path (such as "/dev/video4"), sets the mode
// closest to cfg that it offers, and starts streaming: the Camera it
// returns is running. It fails with an error wrapping ErrConfig,
// ErrNoDevice, ErrNotCapture, ErrBusy, ErrFormat (naming what the camera
// does offer) or ErrUnplugged; on systems other than Linux it returns
// ErrNotSupported.
func Open(path string, cfg Config) (*Camera, error) { return open(hostSystem(), path, cfg) }

func open(sys system, path string, cfg Config) (*Camera, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dev, err := sys.open(path)
	if err != nil {
		return nil, openErr(path, err)
	}
	c := &Camera{cfg: cfg, log: cfg.Logger, dev: dev, held: -1,
		notify: make(chan struct{}, 1), done: make(chan struct{})}
	if err := c.setup(path); err != nil {
		c.release()
		return nil, err
	}
	c.log.Debug("v4l2: streaming", "device", path, "card", c.info.Card, "mode", c.mode.String(), "buffers", len(c.bufs))
	go c.run()
	return c, nil
}

// setup negotiates the mode, maps the buffers and starts the stream.
func (c *Camera) setup(path string) error {
	info, caps, err := queryCap(c.dev, path)
	if err != nil {
		return err
	}
	c.info = info
	switch {
	case caps&capVideoCapture == 0 && caps&capVideoCaptureMPlane != 0:
		return fmt.Errorf("%w: %s (%s) captures multi-planar video, which this package does not stream", ErrNotCapture, path, info.Card)
	case caps&capVideoCapture == 0 && caps&capMetaCapture != 0:
		return fmt.Errorf("%w: %s (%s) is a metadata node; its video is on another /dev/video node (see List)", ErrNotCapture, path, info.Card)
	case caps&capVideoCapture == 0:
		return fmt.Errorf("%w: %s (%s) does not capture video", ErrNotCapture, path, info.Card)
	case caps&capStreaming == 0:
		return fmt.Errorf("%w: %s (%s) offers no streaming I/O", ErrNotCapture, path, info.Card)
	}
	wantW, wantH := c.cfg.Width, c.cfg.Height
	if wantW == 0 {
		wantW, wantH = 640, 480
	}
	offers, err := enumerate(c.dev, path, wantW, wantH)
	if err != nil {
		return err
	}
	for _, o := range offers {
		c.info.Formats = append(c.info.Formats, o.info)
	}
	ch, err := choose(path, offers, c.cfg)
	if err != nil {
		return err
	}
	if err := c.setFormat(path, ch); err != nil {
		return err
	}
	if err := c.mapBuffers(path); err != nil {
		return err
	}
	typ := int32(bufTypeVideoCapture)
	if err := c.dev.ioctl(vidiocStreamon, unsafe.Pointer(&typ)); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("%w: %s: not enough USB bandwidth left for %v; try MJPEG, a smaller size or rate, or another USB port (%w)", ErrBusy, path, c.mode, err)
		}
		return setupErr(path, "start streaming", err)
	}
	return nil
}

// setFormat sets the format and rate and reads back what the driver set.
func (c *Camera) setFormat(path string, ch choice) error {
	var f v4l2Format
	f.typ = bufTypeVideoCapture
	f.fmt.pix = v4l2PixFormat{width: uint32(ch.Width), height: uint32(ch.Height), pixelformat: uint32(ch.Format), field: fieldNone}
	if err := c.dev.ioctl(vidiocSFmt, unsafe.Pointer(&f)); err != nil {
		if errors.Is(err, syscall.EINVAL) {
			return fmt.Errorf("%w: %s refused %v (%w)", ErrFormat, path, ch.Mode, err)
		}
		return setupErr(path, "set the format", err)
	}
	p := f.fmt.pix
	got := Mode{Format: FourCC(p.pixelformat), Width: int(p.width), Height: int(p.height)}
	if got.Format != ch.Format || got.Width <= 0 || got.Height <= 0 ||
		(c.cfg.Width != 0 && (got.Width != c.cfg.Width || got.Height != c.cfg.Height)) {
		return fmt.Errorf("%w: %s was asked for %v and set %v", ErrFormat, path, ch.Mode, got)
	}
	c.mode = got
	c.stride = int(p.bytesperline)
	if pf, ok := got.Format.pixelFormat(); ok {
		c.raw, c.pixfmt = true, pf
		row := pf.FrameSize(got.Width, 1)
		if pf == capture.FormatNV12 {
			row = got.Width
		}
		c.stride = max(c.stride, row)
		c.minUsed = c.rawSize()
	}
	if ch.ival.numerator != 0 {
		var sp v4l2Streamparm
		sp.typ = bufTypeVideoCapture
		sp.capture.timeperframe = ch.ival
		if err := c.dev.ioctl(vidiocSParm, unsafe.Pointer(&sp)); err != nil {
			if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.ENODEV) {
				return setupErr(path, "set the frame rate", err)
			}
			c.log.Debug("v4l2: the driver keeps its own frame rate", "device", path, "err", err)
		} else if sp.capture.timeperframe.numerator != 0 {
			c.mode.FPS = sp.capture.timeperframe.fps()
		}
		if c.cfg.FPS != 0 && c.mode.FPS != 0 && math.Round(c.mode.FPS) != float64(c.cfg.FPS) {
			return fmt.Errorf("%w: %s was asked for %d fps and set %v", ErrFormat, path, c.cfg.FPS, c.mode)
		}
	}
	return nil
}

// rawSize is the bytes an uncompressed frame spans in the driver's
// layout: every row but the last at the full stride.
func (c *Camera) rawSize() int {
	w, h, s := c.mode.Width, c.mode.Height, c.stride
	switch c.pixfmt {
	case capture.FormatNV12:
		cw, ch := (w+1)/2, (h+1)/2
		return s*h + s*(ch-1) + 2*cw
	default:
		return s*(h-1) + c.pixfmt.FrameSize(w, 1)
	}
}

// mapBuffers asks the driver for buffers, maps them and queues them all.
func (c *Camera) mapBuffers(path string) error {
	rb := v4l2Requestbuffers{count: uint32(c.cfg.Buffers), typ: bufTypeVideoCapture, memory: memoryMMAP}
	if err := c.dev.ioctl(vidiocReqbufs, unsafe.Pointer(&rb)); err != nil {
		return setupErr(path, "allocate buffers", err)
	}
	if rb.count < 2 {
		return fmt.Errorf("v4l2: %s: the driver gave %d buffers; streaming needs at least 2", path, rb.count)
	}
	for i := range rb.count {
		b := v4l2Buffer{index: i, typ: bufTypeVideoCapture, memory: memoryMMAP}
		if err := c.dev.ioctl(vidiocQuerybuf, unsafe.Pointer(&b)); err != nil {
			return setupErr(path, "query a buffer", err)
		}
		if c.raw && int(b.length) < c.minUsed {
			return fmt.Errorf("v4l2: %s: buffer of %d bytes for %v needs %d", path, b.length, c.mode, c.minUsed)
		}
		mem, err := c.dev.mmap(b.offset, int(b.length))
		if err != nil {
			return setupErr(path, "map a buffer", err)
		}
		c.bufs = append(c.bufs, mem)
	}
	for i := range c.bufs {
		if err := c.queue(i); err != nil {
			return setupErr(path, "queue a buffer", err)
		}
	}
	return nil
}

func (c *Camera) queue(i int) error {
	b := v4l2Buffer{index: uint32(i), typ: bufTypeVideoCapture, memory: memoryMMAP}
	return c.dev.ioctl(vidiocQbuf, unsafe.Pointer(&b))
}

// run takes frames from the driver until Close or a failure, then
// releases the device.
func (c *Camera) run() {
	err := c.capture()
	c.mu.Lock()
	if c.closing.Load() {
		err = io.EOF
	}
	c.err = err
	c.held = -1
	rerr := c.release()
	if errors.Is(err, io.EOF) {
		c.closeErr = rerr
	}
	c.mu.Unlock()
	close(c.done)
}

// capture waits for frames and takes them until Close or a failure.
func (c *Camera) capture() error {
	path := c.info.Path
	for {
		ev, err := c.dev.wait(c.cfg.FrameTimeout)
		if c.closing.Load() {
			return io.EOF
		}
		if err != nil {
			return fmt.Errorf("v4l2: %s: wait for a frame: %w", path, err)
		}
		switch ev {
		case evWoken:
			continue
		case evTimeout:
			return fmt.Errorf("%w: %s delivered no frame in %v", ErrStalled, path, c.cfg.FrameTimeout)
		}
		n, err := c.dequeue()
		if err != nil {
			return streamErr(path, err)
		}
		if ev == evError && n == 0 {
			return fmt.Errorf("%w: %s reports an error and delivers no frames", ErrUnplugged, path)
		}
	}
}

// dequeue takes every frame the driver has finished, keeps the newest
// good one and hands the rest back. It returns how many it took.
func (c *Camera) dequeue() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, fresh := 0, false
	for n < 64 {
		b := v4l2Buffer{typ: bufTypeVideoCapture, memory: memoryMMAP}
		if err := c.dev.ioctl(vidiocDqbuf, unsafe.Pointer(&b)); err != nil {
			if errors.Is(err, syscall.EAGAIN) {
				break
			}
			return n, err
		}
		n++
		c.captured.Add(1)
		if c.haveSeq && b.sequence-c.lastSeq > 1 && b.sequence-c.lastSeq < 1<<31 {
			c.lost.Add(int64(b.sequence - c.lastSeq - 1))
		}
		c.lastSeq, c.haveSeq = b.sequence, true
		if int(b.index) >= len(c.bufs) {
			return n, fmt.Errorf("driver returned buffer %d of %d", b.index, len(c.bufs))
		}
		used := int(b.bytesused)
		if b.flags&bufFlagError != 0 || used == 0 || used > len(c.bufs[b.index]) || (c.raw && used < c.minUsed) {
			c.damaged("the driver flagged it or it is short", fmt.Sprintf("%d bytes, flags %#x", used, b.flags))
			_ = c.queue(int(b.index))
			continue
		}
		if c.held >= 0 {
			c.replaced.Add(1)
			_ = c.queue(c.held)
		}
		c.held, c.heldUsed, c.heldTime = int(b.index), used, c.frameTime(&b)
		fresh = true
	}
	if fresh {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	return n, nil
}

// frameTime carries the driver's timestamp, when it is on the monotonic
// clock and recent, over to the configured clock.
func (c *Camera) frameTime(b *v4l2Buffer) time.Time {
	now := c.cfg.Clock.Now()
	if b.flags&bufFlagTimestampMask != bufFlagTimestampMonotonic {
		return now
	}
	ts := time.Duration(b.timestamp.sec)*time.Second + time.Duration(b.timestamp.usec)*time.Microsecond
	if age := c.dev.now() - ts; ts > 0 && age >= 0 && age < time.Second {
		return now.Add(-age)
	}
	return now
}

// damaged counts a skipped frame and warns at most every five seconds.
// c.mu is held.
func (c *Camera) damaged(why, detail string) {
	c.corrupt.Add(1)
	c.warnCount++
	now := c.cfg.Clock.Now()
	if now.Sub(c.lastWarn) < 5*time.Second {
		return
	}
	c.log.Warn("v4l2: skipped damaged frames", "device", c.info.Path, "frames", c.warnCount, "why", why, "last", detail)
	c.lastWarn, c.warnCount = now, 0
}

// ReadVideo returns the newest frame as I420 (as capture.FormatZ16 when
// the Camera streams Z16 depth), waiting for one if none has arrived
// since the last call. It returns io.EOF after Close, and an
// error wrapping ErrUnplugged or ErrStalled once the camera has failed.
// The caller owns the frame; handing it back with RecycleVideo when done
// spares the next frame an allocation.
func (c *Camera) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	for {
		c.mu.Lock()
		if i := c.held; i >= 0 {
			c.held = -1
			f, err := c.convert(c.bufs[i][:c.heldUsed], c.heldTime)
			_ = c.queue(i)
			if err != nil {
				c.damaged("it does not decode", err.Error())
				c.mu.Unlock()
				continue
			}
			c.mu.Unlock()
			c.delivered.Add(1)
			return f, nil
		}
		err := c.err
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-c.notify:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// RecycleVideo takes back a frame this Camera returned once its consumer
// holds no reference to it (rtclink's session does this after encoding),
// so the next frame reuses its memory instead of allocating a picture.
// The frame's Data is cleared.
func (c *Camera) RecycleVideo(f *capture.VideoFrame) {
	if f == nil {
		return
	}
	c.free.Put(f.Data)
	f.Data = nil
}

// buffer returns a recycled frame buffer, or nil.
func (c *Camera) buffer() []byte { return c.free.Get() }

var _ capture.VideoRecycler = (*Camera)(nil)

// Info describes the camera's node as List would, with every format it
// offers.
func (c *Camera) Info() DeviceInfo { return c.info }

// Mode returns the format, size and rate the camera streams.
func (c *Camera) Mode() Mode { return c.mode }

// Size returns the size of the frames ReadVideo delivers, so that an
// encoder can be set up before the first frame.
func (c *Camera) Size() (width, height int) { return c.mode.Width, c.mode.Height }

// Stats returns the camera's frame counts.
func (c *Camera) Stats() Stats {
	return Stats{Captured: c.captured.Load(), Delivered: c.delivered.Load(), Replaced: c.replaced.Load(),
		Lost: c.lost.Load(), Corrupt: c.corrupt.Load()}
}

// Close stops the stream and releases the device: its buffers are
// unmapped and the node closed before Close returns. A blocked ReadVideo
// returns io.EOF. Close may be called more than once.
func (c *Camera) Close() error {
	c.closeOnce.Do(func() {
		c.closing.Store(true)
		c.dev.wake()
		<-c.done
	})
	return c.closeErr
}

// release stops the stream, unmaps the buffers and closes the node. A
// failed STREAMOFF on a device that is gone is not an error.
func (c *Camera) release() error {
	var errs []error
	if len(c.bufs) > 0 {
		typ := int32(bufTypeVideoCapture)
		if err := c.dev.ioctl(vidiocStreamoff, unsafe.Pointer(&typ)); err != nil && !errors.Is(err, syscall.ENODEV) {
			errs = append(errs, fmt.Errorf("v4l2: %s: stop streaming: %w", c.info.Path, err))
		}
	}
	for _, b := range c.bufs {
		if err := c.dev.munmap(b); err != nil {
			errs = append(errs, fmt.Errorf("v4l2: %s: unmap: %w", c.info.Path, err))
		}
	}
	c.bufs = nil
	if err := c.dev.close(); err != nil {
		errs = append(errs, fmt.Errorf("v4l2: %s: close: %w", c.info.Path, err))
	}
	return errors.Join(errs...)
}
