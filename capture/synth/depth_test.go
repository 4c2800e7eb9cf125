package synth

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/testclock"
)

func z16At(f *capture.VideoFrame, x, y int) uint16 {
	i := 2 * (y*f.Width + x)
	return uint16(f.Data[i]) | uint16(f.Data[i+1])<<8
}

func TestDepthPatternScene(t *testing.T) {
	clk := testclock.New(epoch)
	p, err := NewDepthPattern(DepthPatternConfig{Width: 160, Height: 120, FPS: 10, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 41 {
		f, err := p.ReadVideo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := epoch.Add(time.Duration(i) * 100 * time.Millisecond)
		if err := f.Validate(); err != nil || f.Format != capture.FormatZ16 || f.Width != 160 || f.Height != 120 || !f.Time.Equal(want) {
			t.Fatalf("frame %d: %v %dx%d at %v: %v", i, f.Format, f.Width, f.Height, f.Time.Sub(epoch), err)
		}
		box := map[int]uint16{0: 500, 10: 2000, 20: 3500, 30: 2000, 40: 500}
		if mm, ok := box[i]; ok && z16At(f, 80, 60) != mm {
			t.Errorf("frame %d: box at %d mm, want %d", i, z16At(f, 80, 60), mm)
		}
		if z16At(f, 0, 60) != 0 || z16At(f, 9, 0) != 0 {
			t.Errorf("frame %d: the left band has depth", i)
		}
		if z16At(f, 10, 0) != 4500 || z16At(f, 159, 119) != 700 {
			t.Errorf("frame %d: floor from %d mm to %d mm, want 4500 to 700", i, z16At(f, 10, 0), z16At(f, 159, 119))
		}
		p.RecycleVideo(f)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ReadVideo(ctx); !errors.Is(err, io.EOF) {
		t.Errorf("after Close: %v", err)
	}
}

func TestDepthPatternReusesAndSkips(t *testing.T) {
	clk := testclock.New(epoch)
	p, _ := NewDepthPattern(DepthPatternConfig{Width: 32, Height: 16, FPS: 10, Clock: clk})
	defer p.Close()
	ctx := context.Background()
	a, _ := p.ReadVideo(ctx)
	mem := &a.Data[0]
	p.RecycleVideo(a)
	clk.Advance(time.Second) // a slow reader
	b, err := p.ReadVideo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if &b.Data[0] != mem {
		t.Error("the recycled buffer was not reused")
	}
	if !b.Time.Equal(epoch.Add(time.Second)) || z16At(b, 16, 8) != p.BoxDepth(10) {
		t.Errorf("after a late read: frame at %v with the box at %d mm, want frame 10", b.Time.Sub(epoch), z16At(b, 16, 8))
	}
	if _, err := NewDepthPattern(DepthPatternConfig{Width: 8, Height: 8}); !errors.Is(err, ErrConfig) {
		t.Errorf("8x8: %v", err)
	}
	if _, err := NewDepthPattern(DepthPatternConfig{FPS: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative rate: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.ReadVideo(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
