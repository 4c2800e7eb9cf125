package signalbench_test

import (
	"fmt"
	"os"
	"time"

	"github.com/avlink/avlink/internal/signalbench"
)

// A report made by Run prints as Markdown tables; here one made by hand.
func ExampleReport_WriteMarkdown() {
	rep := &signalbench.Report{
		Config: signalbench.Config{Counts: []int{100}, Servers: []signalbench.Kind{signalbench.KindGo},
			Runs: 1, Duration: 5 * time.Second, Warmup: time.Second, Window: 2000, MessageBytes: 300,
			LoadMax: 1000, PacedRate: 2, PacedDuration: 10 * time.Second},
		Paced: []signalbench.Paced{{Kind: signalbench.KindGo, Clients: 100, Samples: 19800,
			P50: 600 * time.Microsecond, P99: 1500 * time.Microsecond, Max: 4 * time.Millisecond}},
	}
	if err := rep.WriteMarkdown(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Medians of 1 runs; held is the fewest and dropped the most of any run. Throughput: every client in one room, each sending 300-byte candidate messages as fast as a window allows (senders at most 2000 messages ahead of the slowest receiver), measured for 5s after 1s; N above 1000 is measured idle only. Joined: rooms of 10 (the Node server keeps no rooms).
	//
	// | N | server | held | dropped | RSS KiB/conn idle | RSS KiB/conn joined | Go heap KiB/conn idle / joined | goroutines/conn | delivered msg/s | deliveries per server CPU-s | server CPU | load CPU |
	// |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
	//
	// Paced: 100 clients in one room, 2 messages a second each, for 10s after 1s; measured at the start of each run; latency from send to receipt (medians of the runs' percentiles).
	//
	// | server | deliveries measured | p50 ms | p99 ms | max ms | dropped |
	// |---|---:|---:|---:|---:|---:|
	// | go | 19,800 | 0.60 | 1.50 | 4.00 | 0 |
}
