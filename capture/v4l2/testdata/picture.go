//go:build ignore

// Command picture writes frame 0 of the VP8 packages' grainy, camera-like
// test picture at 640x480 as a binary PPM on standard output, for gen.sh.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/vpx/vpxtest"
)

func main() {
	const w, h = 640, 480
	f := vpxtest.Picture(w, h, 0)
	y, u, v := capture.I420Planes(f)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "P6\n%d %d\n255\n", w, h)
	clip := func(x int) byte { return byte(min(max((x+128)>>8, 0), 255)) }
	for py := range h {
		for px := range w {
			c := (py/2)*(w/2) + px/2
			yy, uu, vv := int(y[py*w+px])-16, int(u[c])-128, int(v[c])-128
			out.Write([]byte{clip(298*yy + 409*vv), clip(298*yy - 100*uu - 208*vv), clip(298*yy + 516*uu)})
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
