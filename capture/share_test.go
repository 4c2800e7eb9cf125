package capture_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/capture"
)

// stuck bounds every wait that only a broken implementation would make
// long; it is far above anything a loaded machine needs.
const stuck = 10 * time.Second

// videoSource hands out the frames and the error the test feeds it, one
// read at a time, and records Close and RecycleVideo.
type videoSource struct {
	frames   chan *capture.VideoFrame
	fail     chan error
	closes   atomic.Int32
	reads    atomic.Int32
	recycled atomic.Int32
	closeErr error
}

func newVideoSource() *videoSource {
	return &videoSource{frames: make(chan *capture.VideoFrame), fail: make(chan error)}
}

func (s *videoSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	s.reads.Add(1)
	select {
	case f := <-s.frames:
		return f, nil
	case err := <-s.fail:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *videoSource) Close() error                       { s.closes.Add(1); return s.closeErr }
func (s *videoSource) RecycleVideo(f *capture.VideoFrame) { s.recycled.Add(1) }

// give hands f to the shared goroutine, failing if it never reads: a
// reader must never hold up the source.
func (s *videoSource) give(t *testing.T, f *capture.VideoFrame) {
	t.Helper()
	select {
	case s.frames <- f:
	case <-time.After(stuck):
		t.Fatal("the source was not read: a reader holds it up")
	}
}

func (s *videoSource) end(t *testing.T, err error) {
	t.Helper()
	select {
	case s.fail <- err:
	case <-time.After(stuck):
		t.Fatal("the source was not read")
	}
}

// frame returns a small I420 frame numbered n in its first byte.
func frame(n int) *capture.VideoFrame {
	data := make([]byte, capture.FormatI420.FrameSize(2, 2))
	data[0] = byte(n)
	return &capture.VideoFrame{Format: capture.FormatI420, Width: 2, Height: 2, Data: data, Time: time.Unix(1764000000, 0)}
}

func readVideo(t *testing.T, r capture.VideoSource) (*capture.VideoFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stuck)
	defer cancel()
	f, err := r.ReadVideo(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("ReadVideo did not return")
	}
	return f, err
}

func mustReadVideo(t *testing.T, r capture.VideoSource, want int) *capture.VideoFrame {
	t.Helper()
	f, err := readVideo(t, r)
	if err != nil {
		t.Fatalf("ReadVideo: %v, want frame %d", err, want)
	}
	if int(f.Data[0]) != want {
		t.Fatalf("got frame %d, want %d", f.Data[0], want)
	}
	return f
}

func newVideoReader(t *testing.T, s *capture.SharedVideo) *capture.SharedVideoReader {
	t.Helper()
	r, err := s.NewReader()
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r
}

// letBlock gives a read just started on another goroutine time to block,
// so that what follows tests waking it rather than a read that had not
// begun. A correct implementation passes without it.
func letBlock() { time.Sleep(50 * time.Millisecond) }

// returns runs fn and fails if it does not return.
func returns(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(stuck):
		t.Fatalf("%s did not return", what)
	}
}

func TestSharedVideoReadersGetEveryFrame(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := newVideoSource()
	shared := capture.ShareVideo(src)
	defer shared.Close()
	a, b := newVideoReader(t, shared), newVideoReader(t, shared)
	for i := range 20 {
		src.give(t, frame(i))
		fa := mustReadVideo(t, a, i)
		fb := mustReadVideo(t, b, i)
		if fa != fb {
			t.Fatalf("frame %d: readers got different frames; the frame should be shared", i)
		}
	}
	if a.Dropped() != 0 || b.Dropped() != 0 {
		t.Errorf("dropped %d and %d, want 0", a.Dropped(), b.Dropped())
	}
	if _, ok := any(a).(capture.VideoRecycler); ok {
		t.Error("a reader implements VideoRecycler: a consumer would recycle a frame other readers still hold")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := src.recycled.Load(); n != 0 {
		t.Errorf("%d frames recycled to the source; shared frames must not be", n)
	}
}

func TestSharedVideoSlowReaderDoesNotHoldUpOthers(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := newVideoSource()
	shared := capture.ShareVideo(src)
	defer shared.Close()
	fast, slow := newVideoReader(t, shared), newVideoReader(t, shared)
	const n = 50
	for i := range n {
		src.give(t, frame(i))
		mustReadVideo(t, fast, i)
		if i == n/2 {
			mustReadVideo(t, slow, i) // the newest, not the oldest missed
		}
	}
	mustReadVideo(t, slow, n-1)
	if got := fast.Dropped(); got != 0 {
		t.Errorf("fast reader dropped %d frames, want 0", got)
	}
	if got, want := slow.Dropped(), uint64(n-2); got != want {
		t.Errorf("slow reader dropped %d frames, want %d", got, want)
	}
}

func TestSharedVideoStampsFramesOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := newVideoSource()
	shared := capture.ShareVideo(src)
	defer shared.Close()
	readers := []*capture.SharedVideoReader{newVideoReader(t, shared), newVideoReader(t, shared)}
	f := frame(1)
	f.Time = time.Time{}
	src.give(t, f)
	var wg sync.WaitGroup
	stamped := make([]bool, len(readers))
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := r.ReadVideo(context.Background())
			if err != nil {
				return
			}
			stamped[i] = !f.Time.IsZero()
			// What a consumer such as rtclink does with a zero Time: a
			// race under -race if the frame were not stamped already.
			if f.Time.IsZero() {
				f.Time = time.Now()
			}
		}()
	}
	returns(t, "ReadVideo", wg.Wait)
	for i, ok := range stamped {
		if !ok {
			t.Errorf("reader %d got a frame with a zero Time", i)
		}
	}
}

func TestSharedReaderCloseDetachesOnlyIt(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := newVideoSource()
	shared := capture.ShareVideo(src)
	a, b := newVideoReader(t, shared), newVideoReader(t, shared)

	// A session closes its source while its read loop is blocked in it.
	blocked := make(chan error, 1)
	go func() {
		_, err := a.ReadVideo(context.Background())
		blocked <- err
	}()
	letBlock()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, capture.ErrClosed) {
			t.Errorf("blocked read returned %v, want ErrClosed", err)
		}
	case <-time.After(stuck):
		t.Fatal("Close did not end a blocked read")
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := readVideo(t, a); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed", err)
	}
	if n := src.closes.Load(); n != 0 {
		t.Fatalf("source closed while a reader still uses it")
	}
	for i := range 3 {
		src.give(t, frame(i))
		mustReadVideo(t, b, i)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := src.closes.Load(); n != 1 {
		t.Fatalf("source closed %d times after the last reader closed, want 1", n)
	}
	if _, err := shared.NewReader(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("NewReader after the last reader closed: %v, want ErrClosed", err)
	}
	if err := shared.Close(); err != nil {
		t.Errorf("Close after the last reader: %v", err)
	}
	if n := src.closes.Load(); n != 1 {
		t.Errorf("source closed %d times, want 1", n)
	}
}

func TestSharedVideoStartsWithFirstReader(t *testing.T) {
	src := newVideoSource()
	shared := capture.ShareVideo(src)
	goleak.VerifyNone(t) // no goroutine before a reader
	if n := src.reads.Load(); n != 0 {
		t.Errorf("source read %d times before any reader", n)
	}
	if err := shared.Close(); err != nil {
		t.Fatal(err)
	}
	if n := src.closes.Load(); n != 1 {
		t.Errorf("source closed %d times, want 1", n)
	}
	if _, err := shared.NewReader(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("NewReader after Close: %v, want ErrClosed", err)
	}
}

func TestSharedVideoSourceEndReachesEveryReader(t *testing.T) {
	for _, end := range []error{io.EOF, errors.New("camera unplugged")} {
		t.Run(end.Error(), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			src := newVideoSource()
			shared := capture.ShareVideo(src)
			a, b := newVideoReader(t, shared), newVideoReader(t, shared)
			src.give(t, frame(1))
			mustReadVideo(t, a, 1)
			src.end(t, end)
			for range 2 {
				if _, err := readVideo(t, a); err != end {
					t.Errorf("a: %v, want %v", err, end)
				}
			}
			mustReadVideo(t, b, 1) // what it still held comes first
			if _, err := readVideo(t, b); err != end {
				t.Errorf("b: %v, want %v", err, end)
			}
			c := newVideoReader(t, shared) // a late reader learns of the end too
			if _, err := readVideo(t, c); err != end {
				t.Errorf("late reader: %v, want %v", err, end)
			}
			if n := src.closes.Load(); n != 0 {
				t.Errorf("source closed before its readers were")
			}
			for _, r := range []*capture.SharedVideoReader{a, b, c} {
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if n := src.closes.Load(); n != 1 {
				t.Errorf("source closed %d times, want 1", n)
			}
		})
	}
}

func TestSharedVideoReadHonoursContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := newVideoSource()
	shared := capture.ShareVideo(src)
	defer shared.Close()
	a, b := newVideoReader(t, shared), newVideoReader(t, shared)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.ReadVideo(ctx)
		done <- err
	}()
	letBlock()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled read: %v, want context.Canceled", err)
		}
	case <-time.After(stuck):
		t.Fatal("a cancelled read did not return")
	}
	short, cancelShort := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancelShort()
	if _, err := b.ReadVideo(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read past its deadline: %v, want context.DeadlineExceeded", err)
	}

	// Neither the source nor either reader was stopped.
	src.give(t, frame(7))
	mustReadVideo(t, b, 7)
	mustReadVideo(t, a, 7)
	if n := src.closes.Load(); n != 0 {
		t.Errorf("a cancelled read closed the source")
	}
}

func TestSharedVideoCloseEndsReaders(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := newVideoSource()
	src.closeErr = errors.New("close failed")
	shared := capture.ShareVideo(src)
	a, b := newVideoReader(t, shared), newVideoReader(t, shared)
	blocked := make(chan error, 1)
	go func() {
		_, err := a.ReadVideo(context.Background())
		blocked <- err
	}()
	letBlock()
	if err := shared.Close(); err != src.closeErr {
		t.Errorf("Close: %v, want the source's %v", err, src.closeErr)
	}
	select {
	case err := <-blocked:
		if err != io.EOF {
			t.Errorf("blocked read after Close: %v, want io.EOF", err)
		}
	case <-time.After(stuck):
		t.Fatal("Close did not end a blocked read")
	}
	if _, err := readVideo(t, b); err != io.EOF {
		t.Errorf("read after Close: %v, want io.EOF", err)
	}
	if _, err := shared.NewReader(); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("NewReader after Close: %v, want ErrClosed", err)
	}
	if err := shared.Close(); err != src.closeErr {
		t.Errorf("second Close: %v, want %v again", err, src.closeErr)
	}
	for _, r := range []*capture.SharedVideoReader{a, b} {
		if err := r.Close(); err != nil {
			t.Errorf("reader Close after Close: %v", err)
		}
	}
	if n := src.closes.Load(); n != 1 {
		t.Errorf("source closed %d times, want 1", n)
	}
}

// deafSource ignores ctx; only Close ends its read, as with a device
// whose blocking call Close interrupts.
type deafSource struct{ closed chan struct{} }

func (s *deafSource) ReadVideo(context.Context) (*capture.VideoFrame, error) {
	<-s.closed
	return nil, capture.ErrClosed
}

func (s *deafSource) Close() error { close(s.closed); return nil }

func TestSharedVideoLastCloseUnblocksSourceThatIgnoresContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	shared := capture.ShareVideo(&deafSource{closed: make(chan struct{})})
	r := newVideoReader(t, shared)
	returns(t, "Close of the last reader", func() { _ = r.Close() })
}

// audioSource hands out the blocks the test feeds it, then io.EOF when
// the channel is closed.
type audioSource struct {
	blocks chan *capture.AudioFrame
	closes atomic.Int32
}

func (s *audioSource) ReadAudio(ctx context.Context) (*capture.AudioFrame, error) {
	select {
	case f, ok := <-s.blocks:
		if !ok {
			return nil, io.EOF
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *audioSource) Close() error { s.closes.Add(1); return nil }

func readAudio(t *testing.T, r capture.AudioSource) (*capture.AudioFrame, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stuck)
	defer cancel()
	f, err := r.ReadAudio(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("ReadAudio did not return")
	}
	return f, err
}

func TestSharedAudioSlowReaderLosesOldestBlocks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples int // per block, at 48 kHz mono
		n, keep int
	}{
		{"block bound", 48, 100, capture.SharedAudioBlocks},                             // 1 ms blocks
		{"span bound", 960, 40, int(capture.SharedAudioSpan / (20 * time.Millisecond))}, // 20 ms blocks
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t)
			src := &audioSource{blocks: make(chan *capture.AudioFrame)}
			shared := capture.ShareAudio(src)
			fast, err := shared.NewReader()
			if err != nil {
				t.Fatal(err)
			}
			slow, err := shared.NewReader()
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.n {
				b := &capture.AudioFrame{Rate: 48000, Channels: 1, Samples: make([]int16, tc.samples)}
				b.Samples[0] = int16(i)
				select {
				case src.blocks <- b:
				case <-time.After(stuck):
					t.Fatal("the source was not read: a reader holds it up")
				}
				f, err := readAudio(t, fast)
				if err != nil || f != b {
					t.Fatalf("fast reader: block %v, %v; want block %d", f, err, i)
				}
			}
			close(src.blocks)
			if _, err := readAudio(t, fast); err != io.EOF {
				t.Fatalf("fast reader at the end: %v, want io.EOF", err)
			}
			for i := tc.n - tc.keep; i < tc.n; i++ {
				f, err := readAudio(t, slow)
				if err != nil {
					t.Fatalf("slow reader, block %d: %v", i, err)
				}
				if int(f.Samples[0]) != i {
					t.Fatalf("slow reader got block %d, want %d", f.Samples[0], i)
				}
			}
			if _, err := readAudio(t, slow); err != io.EOF {
				t.Fatalf("slow reader after its queue: %v, want io.EOF", err)
			}
			if got, want := slow.Dropped(), uint64(tc.n-tc.keep); got != want {
				t.Errorf("slow reader dropped %d, want %d", got, want)
			}
			if got := fast.Dropped(); got != 0 {
				t.Errorf("fast reader dropped %d, want 0", got)
			}
			_ = fast.Close()
			if src.closes.Load() != 0 {
				t.Fatal("source closed while a reader still uses it")
			}
			_ = slow.Close()
			if n := src.closes.Load(); n != 1 {
				t.Errorf("source closed %d times, want 1", n)
			}
			if _, err := shared.NewReader(); !errors.Is(err, capture.ErrClosed) {
				t.Errorf("NewReader after the last reader closed: %v, want ErrClosed", err)
			}
		})
	}
}

// Readers come and go while a fast source runs: nothing deadlocks, no
// reader sees a frame twice or out of order, and the source is closed once.
func TestSharedVideoReadersComeAndGo(t *testing.T) {
	defer goleak.VerifyNone(t)
	var n atomic.Int64
	src := &countingSource{n: &n}
	shared := capture.ShareVideo(src)
	anchor := newVideoReader(t, shared) // keeps the source open throughout
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				r, err := shared.NewReader()
				if err != nil {
					t.Error(err)
					return
				}
				last := -1
				for range 5 + g {
					f, err := r.ReadVideo(context.Background())
					if err != nil {
						t.Error(err)
						break
					}
					seq := int(f.Time.UnixNano())
					if seq <= last {
						t.Errorf("frame %d after %d", seq, last)
					}
					last = seq
				}
				_ = r.Close()
			}
		}()
	}
	returns(t, "readers", wg.Wait)
	if src.closes.Load() != 0 {
		t.Fatal("source closed while a reader still uses it")
	}
	_ = anchor.Close()
	if c := src.closes.Load(); c != 1 {
		t.Errorf("source closed %d times, want 1", c)
	}
}

// countingSource returns a new frame on every read, numbered in its Time.
type countingSource struct {
	n      *atomic.Int64
	closes atomic.Int32
}

func (s *countingSource) ReadVideo(ctx context.Context) (*capture.VideoFrame, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	time.Sleep(100 * time.Microsecond)
	return &capture.VideoFrame{Time: time.Unix(0, s.n.Add(1))}, nil
}

func (s *countingSource) Close() error { s.closes.Add(1); return nil }
