package audiobench_test

import (
	"fmt"
	"time"

	"github.com/avlink/avlink/internal/audiobench"
)

// Find the clicks of a click train again, and their delay in a copy that
// starts 40 ms later.
func ExampleMatch() {
	period := 487 * time.Millisecond
	sent := audiobench.Clicks(3, period)
	heard := append(make([]int16, audiobench.Rate*40/1000), sent...)
	start := time.Unix(0, 0)
	lat := audiobench.Match(audiobench.Detect(sent, start, period), audiobench.Detect(heard, start, period), period)
	fmt.Println(lat)
	// Output: [40ms 40ms 40ms]
}
