package v4l2

import (
	"slices"
	"syscall"
	"time"
)

// The fake device's streaming: mapped buffers, poll and the scripted
// steps that finish frames.

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
