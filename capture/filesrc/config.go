package filesrc

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/avlink/avlink/capture"
)

// Config configures a file source. The zero value paces the file in real
// time on the wall clock.
type Config struct {
	// Clock paces the media and stamps it. Nil means the wall clock.
	Clock capture.Clock
	// Fast hands out media as fast as it is read, without waiting for its
	// time; stamps still follow the file's timing from the first read.
	Fast bool
	// Name names the file in error messages. The Open functions set it to
	// the path; for the New functions it defaults to the kind of file.
	Name string
	// BlockSize is, for WAV, the number of samples per channel in each
	// block. Zero means 20 ms; a negative size is an error wrapping
	// ErrConfig.
	BlockSize int
}

// pacer releases media at its offset from the first read.
type pacer struct {
	clock capture.Clock
	fast  bool
	start time.Time
}

func newPacer(c Config) pacer {
	clk := c.Clock
	if clk == nil {
		clk = capture.WallClock{}
	}
	return pacer{clock: clk, fast: c.Fast}
}

// wait blocks until offset after the first call, unless fast, and returns
// the time the media at offset is due.
func (p *pacer) wait(ctx context.Context, offset time.Duration) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	if p.start.IsZero() {
		p.start = p.clock.Now()
	}
	due := p.start.Add(offset)
	if !p.fast {
		if err := p.clock.SleepUntil(ctx, due); err != nil {
			return time.Time{}, err
		}
	}
	return due, nil
}

// file holds what every source shares: its name for errors, the file it
// owns if opened by path, and a lock so Close may come from any goroutine.
type file struct {
	name   string
	closer io.Closer
	mu     sync.Mutex
	closed bool
}

func (f *file) errorf(format string, args ...any) error {
	return fmt.Errorf("filesrc: %s: "+format, append([]any{f.name}, args...)...)
}

func (f *file) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Close ends the source and closes the file if the source opened it.
func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// openFile opens path, names the source after it, and hands it to
// newSource, closing the file again if the source refuses it.
func openFile[S interface{ own(io.Closer) }](path string, cfg Config, newSource func(io.Reader, Config) (S, error)) (S, error) {
	var zero S
	fh, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("filesrc: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = path
	}
	s, err := newSource(fh, cfg)
	if err != nil {
		fh.Close()
		return zero, err
	}
	s.own(fh)
	return s, nil
}

// own makes Close close c too.
func (f *file) own(c io.Closer) { f.closer = c }

func nameOr(cfg Config, def string) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	return def
}
