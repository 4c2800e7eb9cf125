package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/avlink/avlink/capture"
)

// devices keeps what the program opened — the camera, and beside it a
// microphone or a speaker — releases it all on the way out, and reports
// the first device that fails, so that the program ends (and a supervisor
// restarts it) rather than run on without its camera.
type devices struct {
	log    *slog.Logger
	mu     sync.Mutex
	opened []namedCloser
	failed chan error
}

type namedCloser struct {
	name string
	c    io.Closer
}

func newDevices(log *slog.Logger) *devices {
	return &devices{log: log, failed: make(chan error, 1)}
}

// add registers c to be closed by closeAll.
func (d *devices) add(name string, c io.Closer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened = append(d.opened, namedCloser{name, c})
}

// addVideo registers a video source and returns it watched: a read that
// fails while the source is open is reported on Failed.
func (d *devices) addVideo(name string, src capture.VideoSource) capture.VideoSource {
	d.add(name, src)
	return &watchedVideo{VideoSource: src, name: name, d: d}
}

// fail reports a device's failure; only the first is kept.
func (d *devices) fail(name string, err error) {
	select {
	case d.failed <- fmt.Errorf("%s failed: %w", name, err):
	default:
	}
}

// Failed delivers the first device failure.
func (d *devices) Failed() <-chan error { return d.failed }

// closeAll closes every device, the last opened first.
func (d *devices) closeAll() {
	d.mu.Lock()
	opened := d.opened
	d.opened = nil
	d.mu.Unlock()
	for i := len(opened) - 1; i >= 0; i-- {
		n := opened[i]
		if err := n.c.Close(); err != nil {
			d.log.Warn(n.name+": release failed", "err", err)
			continue
		}
		d.log.Info(n.name + ": released")
	}
}

// watchedVideo passes reads through and reports a failure.
type watchedVideo struct {
	capture.VideoSource
	name   string
	d      *devices
	closed atomic.Bool
}

func (w *watchedVideo) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	f, err := w.VideoSource.ReadVideo(ctx)
	if err != nil && ctx.Err() == nil && !w.closed.Load() && !errors.Is(err, context.Canceled) {
		w.d.fail(w.name, err)
	}
	return f, err
}

// RecycleVideo hands a frame back to the source, when it takes frames
// back.
func (w *watchedVideo) RecycleVideo(f *capture.VideoFrame) {
	if r, ok := w.VideoSource.(capture.VideoRecycler); ok {
		r.RecycleVideo(f)
	}
}

func (w *watchedVideo) Close() error {
	w.closed.Store(true)
	return w.VideoSource.Close()
}
