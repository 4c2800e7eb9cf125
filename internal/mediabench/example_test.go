package mediabench_test

import (
	"fmt"
	"time"

	"github.com/avlink/avlink/internal/mediabench"
)

// Latency figures are percentiles of per-frame milliseconds.
func ExamplePercentile() {
	lat := []float64{3.1, 2.9, 4.0, 3.3, 9.5, 3.0, 3.2, 3.4, 3.6, 3.5}
	fmt.Printf("p50 %.2f ms, p90 %.2f ms\n", mediabench.Median(lat), mediabench.Percentile(lat, 90))
	// Output: p50 3.35 ms, p90 4.55 ms
}

// Audio latency pairs each click found at the sink with the click made at
// the source just before it.
func ExampleMatchClicks() {
	t0 := time.Unix(0, 0)
	sent := []time.Time{t0, t0.Add(500 * time.Millisecond)}
	heard := []time.Time{t0.Add(27 * time.Millisecond), t0.Add(526 * time.Millisecond)}
	fmt.Println(mediabench.MatchClicks(sent, heard, mediabench.ClickMatchWindow))
	// Output: [27ms 26ms]
}
