package broadcast

import (
	"context"
	"fmt"
	"testing"

	"github.com/avlink/avlink/capture"
)

// BenchmarkFanOut measures what handing one encoded sample to every
// reader costs on top of encoding it once: queueing it on each reader
// and each reader taking it.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("readers=%d", n), func(b *testing.B) {
			taps := make([]*tap, n)
			for i := range taps {
				taps[i] = newTap(DefaultVideoQueue, false)
			}
			s := &capture.Sample{Data: make([]byte, 4000), Keyframe: true}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range taps {
					t.pushVideo(s)
				}
				for _, t := range taps {
					if _, err := t.read(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
