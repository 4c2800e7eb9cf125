package depth_test

import (
	"context"
	"fmt"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/capture/depth"
	"github.com/avlink/avlink/capture/synth"
)

// Colourise a depth stream for a video track. Here the depth source is a
// function giving a 4x2 frame of millimetre depths; on a robot it is a
// RealSense depth node opened with v4l2.Open and Formats {v4l2.Z16}.
func Example() {
	mm := []uint16{0, 300, 1225, 2150, 3075, 4000, 9000, 100}
	cam := capture.VideoSourceFunc(func(context.Context) (*capture.VideoFrame, error) {
		f := &capture.VideoFrame{Format: capture.FormatZ16, Width: 4, Height: 2, Data: make([]byte, 16)}
		for i, d := range mm {
			f.Data[2*i], f.Data[2*i+1] = byte(d), byte(d>>8)
		}
		return f, nil
	})
	src, err := depth.NewColorizer(cam, depth.Config{Near: 0.3, Far: 4})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	f, err := src.ReadVideo(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Format, f.Width, f.Height)
	for _, d := range mm {
		r, g, b := src.Map().RGB(d)
		fmt.Printf("%4d mm: %3d %3d %3d\n", d, r, g, b)
	}
	// Output:
	// I420 4 2
	//    0 mm:   0   0   0
	//  300 mm: 184  32   8
	// 1225 mm: 255 163  35
	// 2150 mm: 150 250  80
	// 3075 mm:  39 215 195
	// 4000 mm:  73  88 221
	// 9000 mm:  73  88 221
	//  100 mm: 184  32   8
}

// Colourise the synthetic depth scene, as a robot without a depth camera
// might to try a depth track out.
func ExampleNewColorizer() {
	scene, err := synth.NewDepthPattern(synth.DepthPatternConfig{Width: 320, Height: 240})
	if err != nil {
		panic(err)
	}
	src, err := depth.NewColorizer(scene, depth.Config{Near: 0.5, Far: 3.5})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	f, err := src.ReadVideo(context.Background())
	if err != nil {
		panic(err)
	}
	y, _, _ := capture.I420Planes(f)
	fmt.Println(f.Format, f.Width, f.Height)
	fmt.Println("missing depth at the left edge has luma", y[0])
	fmt.Println("the box starts at 0.5 m, shown as", fmt.Sprint(src.Map().RGB(500)))
	// Output:
	// I420 320 240
	// missing depth at the left edge has luma 16
	// the box starts at 0.5 m, shown as 184 32 8
}
