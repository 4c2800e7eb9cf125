package vpx_test

import (
	"fmt"
	"log"

	"github.com/avlink/avlink/internal/vpx"
)

// Encode one grey 64x48 frame as a keyframe and decode it.
func ExampleEncoder() {
	const w, h = 64, 48
	enc, err := vpx.NewEncoder(vpx.EncoderParams{
		Width: w, Height: h, BitrateKbps: 300, MinQuantizer: 2, MaxQuantizer: 56,
		Speed: -6, Threads: 1, TimebaseDen: 90000,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer enc.Close()
	dec, err := vpx.NewDecoder(1)
	if err != nil {
		log.Fatal(err)
	}
	defer dec.Close()

	y, u, v := make([]byte, w*h), make([]byte, w*h/4), make([]byte, w*h/4)
	for _, p := range [][]byte{y, u, v} {
		for i := range p {
			p[i] = 128
		}
	}
	frame, key, err := enc.Encode(y, u, v, w, w/2, 0, 3000, true)
	if err != nil {
		log.Fatal(err)
	}
	tag, _ := vpx.ParseFrameTag(frame)
	fmt.Println("keyframe:", key, tag.Keyframe, tag.Width, tag.Height)

	pix, dw, dh, err := dec.Decode(frame)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decoded:", dw, dh, len(pix), pix[0])
	// Output:
	// keyframe: true true 64 48
	// decoded: 64 48 4608 128
}
