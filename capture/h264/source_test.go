package h264

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"
)

func TestSplitAnnexB(t *testing.T) {
	in := []byte{
		0xaa, 0xbb, // junk before the first start code
		0, 0, 0, 1, 0x67, 1, 2,
		0, 0, 1, 0x68, 3, 0, 0, // trailing zeros of the next 4-byte start code and trailing_zero_8bits
		0, 0, 0, 1, 0, 0, 1, // an empty NAL unit
		0x65, 0, 0, 3, 1, 0x80,
	}
	got := SplitAnnexB(in)
	want := [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 0, 0, 3, 1, 0x80}}
	if len(got) != len(want) {
		t.Fatalf("got %x", got)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("NAL %d: % x, want % x", i, got[i], want[i])
		}
	}
	if NALType(got[2]) != NALIDR || NALType(nil) != -1 {
		t.Fatal("NALType")
	}
	if n := SplitAnnexB([]byte{1, 2, 3, 0, 0}); n != nil {
		t.Fatalf("no start code: %x", n)
	}
	round := SplitAnnexB(AppendAnnexB(nil, want...))
	for i := range want {
		if !bytes.Equal(round[i], want[i]) {
			t.Fatalf("round trip NAL %d: % x", i, round[i])
		}
	}
}

func readAll(t testing.TB, r *NALReader) [][]byte {
	t.Helper()
	var nals [][]byte
	for {
		n, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nals
		}
		if err != nil {
			t.Fatal(err)
		}
		nals = append(nals, n)
	}
}

func TestNALReaderMatchesSplit(t *testing.T) {
	for _, s := range streams {
		data := readStream(t, s.file)
		want := SplitAnnexB(data)
		// One byte at a time exercises start codes cut across reads; a
		// stream longer than the read chunk exercises buffer growth.
		big := bytes.Repeat(data, 1+3*readChunk/len(data))
		for _, c := range []struct {
			name string
			r    io.Reader
			want [][]byte
		}{
			{"whole", bytes.NewReader(data), want},
			{"one byte", iotest.OneByteReader(bytes.NewReader(data)), want},
			{"repeated", iotest.HalfReader(bytes.NewReader(big)), SplitAnnexB(big)},
		} {
			got := readAll(t, NewNALReader(c.r))
			if len(got) != len(c.want) {
				t.Fatalf("%s %s: %d NAL units, want %d", s.file, c.name, len(got), len(c.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) {
					t.Fatalf("%s %s: NAL %d differs", s.file, c.name, i)
				}
			}
		}
	}
}

func TestNALReaderErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	r := NewNALReader(iotest.ErrReader(boom))
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	huge := append([]byte{0, 0, 1, 0x65}, bytes.Repeat([]byte{0xff}, MaxNALSize+readChunk)...)
	r = NewNALReader(bytes.NewReader(huge))
	if _, err := r.Next(); !errors.Is(err, ErrNALTooLarge) {
		t.Fatalf("huge NAL: %v", err)
	}
}

// stepClock is a capture.Clock whose SleepUntil returns at once after
// moving its time forward, so paced sources run at full speed in tests.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

func TestFileSourceAccessUnits(t *testing.T) {
	for _, st := range streams {
		t.Run(st.file, func(t *testing.T) {
			clk := &stepClock{now: time.Unix(1000, 0)}
			src, err := OpenFile(filepath.Join("testdata", st.file), FileSourceConfig{Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Codec().Fmtp != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id="+st.plid {
				t.Fatalf("codec %+v", src.Codec())
			}
			interval := time.Duration(float64(time.Second) / st.fps)
			if src.FrameInterval() != interval {
				t.Fatalf("interval %v, want %v", src.FrameInterval(), interval)
			}
			ctx := context.Background()
			for i := 0; ; i++ {
				s, err := src.ReadSample(ctx)
				if errors.Is(err, io.EOF) {
					if i != st.frames {
						t.Fatalf("%d samples, want %d", i, st.frames)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if want := time.Unix(1000, 0).Add(time.Duration(i) * interval); !s.Time.Equal(want) || s.Duration != interval {
					t.Fatalf("sample %d at %v lasting %v, want %v", i, s.Time, s.Duration, want)
				}
				nals := SplitAnnexB(s.Data)
				pictures, idr, first := 0, false, -1
				for _, n := range nals {
					switch NALType(n) {
					case NALSlice, NALIDR:
						if n[1]&0x80 != 0 {
							pictures++
						}
						idr = idr || NALType(n) == NALIDR
					case NALAUD:
						t.Fatal("access unit delimiter passed through")
					}
					if first < 0 {
						first = NALType(n)
					}
				}
				// testdata/gen.py asks for a keyframe every 4 frames.
				if pictures != 1 || s.Keyframe != idr || idr != (i%4 == 0) {
					t.Fatalf("sample %d: %d pictures, keyframe %v, IDR %v", i, pictures, s.Keyframe, idr)
				}
				if idr && first != NALSPS {
					t.Fatalf("sample %d: keyframe starts with NAL type %d, not an SPS", i, first)
				}
			}
		})
	}
}

// A stream that sends its parameter sets only once still gives keyframes
// that carry them, for receivers that join late.
func TestKeyframesCarryParameterSets(t *testing.T) {
	var stripped []byte
	seen := map[int]bool{}
	for _, n := range SplitAnnexB(readStream(t, "high_640x360_25.h264")) {
		if tp := NALType(n); (tp == NALSPS || tp == NALPPS) && seen[tp] {
			continue
		} else {
			seen[tp] = true
		}
		stripped = AppendAnnexB(stripped, n)
	}
	src, err := NewSource(bytes.NewReader(stripped), FileSourceConfig{Clock: &stepClock{}, FrameRate: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	keys := 0
	for {
		s, err := src.ReadSample(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s.Duration != 10*time.Millisecond {
			t.Fatalf("duration %v with FrameRate 100", s.Duration)
		}
		if !s.Keyframe {
			continue
		}
		keys++
		nals := SplitAnnexB(s.Data)
		if NALType(nals[0]) != NALSPS || NALType(nals[1]) != NALPPS {
			t.Fatalf("keyframe %d starts with types %d, %d", keys, NALType(nals[0]), NALType(nals[1]))
		}
	}
	if keys != 2 {
		t.Fatalf("%d keyframes, want 2", keys)
	}
}

func TestFileSourceLoops(t *testing.T) {
	src, err := NewSource(bytes.NewReader(readStream(t, "main_176x144_15.h264")),
		FileSourceConfig{Clock: &stepClock{}, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var last time.Time
	for i := range 3 * 8 {
		s, err := src.ReadSample(context.Background())
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if s.Keyframe != (i%4 == 0) || (i > 0 && s.Time.Sub(last) != src.FrameInterval()) {
			t.Fatalf("sample %d: keyframe %v, %v after the previous", i, s.Keyframe, s.Time.Sub(last))
		}
		last = s.Time
	}
}

func TestFileSourceErrors(t *testing.T) {
	slice := AppendAnnexB(nil, []byte{0x65, 0x88, 0x84})
	for name, data := range map[string][]byte{"empty": nil, "picture first": slice, "no start code": []byte("hello")} {
		if _, err := NewSource(bytes.NewReader(data), FileSourceConfig{}); !errors.Is(err, ErrNoSPS) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := AppendAnnexB(nil, []byte{0x67, 0x42})
	if _, err := NewSource(bytes.NewReader(bad), FileSourceConfig{}); !errors.Is(err, ErrBadSPS) {
		t.Errorf("bad SPS: %v", err)
	}
	if _, err := NewSource(iotest.HalfReader(bytes.NewReader(bad)), FileSourceConfig{Loop: true}); !errors.Is(err, ErrConfig) {
		t.Errorf("loop without seek: %v", err)
	}
	if _, err := OpenFile(filepath.Join("testdata", "missing.h264"), FileSourceConfig{}); err == nil {
		t.Error("missing file opened")
	}
	if _, err := OpenFile(filepath.Join("testdata", "gen.py"), FileSourceConfig{}); !errors.Is(err, ErrNoSPS) {
		t.Errorf("not H.264: %v", err)
	}
}

// blockClock never reaches the time asked for; only the context ends a
// wait.
type blockClock struct{ waiting chan struct{} }

func (c blockClock) Now() time.Time { return time.Unix(0, 0) }

func (c blockClock) SleepUntil(ctx context.Context, _ time.Time) error {
	close(c.waiting)
	<-ctx.Done()
	return ctx.Err()
}

func TestCloseEndsWait(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := blockClock{waiting: make(chan struct{})}
	src, err := OpenFile(filepath.Join("testdata", streams[0].file), FileSourceConfig{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := src.ReadSample(context.Background())
		done <- err
	}()
	<-clk.waiting
	for range 2 {
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadSample ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the wait")
	}
	if _, err := src.ReadSample(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// FuzzSplitAnnexB checks the in-memory splitter and the streaming reader
// against each other, and that joining and splitting again is stable.
func FuzzSplitAnnexB(f *testing.F) {
	for _, s := range streams {
		f.Add(readStream(f, s.file)[:300])
	}
	f.Add([]byte{0, 0, 0, 1, 0x67, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1})
	f.Add([]byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		want := SplitAnnexB(data)
		got := readAll(t, NewNALReader(iotest.OneByteReader(bytes.NewReader(data))))
		if len(got) != len(want) {
			t.Fatalf("reader gives %d NAL units, splitter %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("NAL %d: reader % x, splitter % x", i, got[i], want[i])
			}
			if len(want[i]) == 0 || want[i][len(want[i])-1] == 0 || findStartCode(want[i]) >= 0 {
				t.Fatalf("NAL %d is empty, ends in zero or holds a start code: % x", i, want[i])
			}
		}
		again := SplitAnnexB(AppendAnnexB(nil, want...))
		if len(again) != len(want) {
			t.Fatalf("re-split gives %d NAL units, want %d", len(again), len(want))
		}
		for i := range want {
			if !bytes.Equal(again[i], want[i]) {
				t.Fatalf("re-split NAL %d: % x, want % x", i, again[i], want[i])
			}
		}
	})
}
