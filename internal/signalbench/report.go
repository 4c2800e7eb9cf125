package signalbench

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// median returns the median of the numbers that are not NaN, or NaN.
func median(xs []float64) float64 {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func medianDur(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}

// Summary is the medians over the runs of one server at one count.
// Held is the fewest held and Dropped the most dropped in any run.
type Summary struct {
	Result
	Runs int
}

// Summaries returns one Summary per server and count, in the order the
// configuration lists them.
func (r *Report) Summaries() []Summary {
	var out []Summary
	for _, n := range r.Config.Counts {
		for _, k := range r.Config.Servers {
			var rs []Result
			for _, x := range r.Results {
				if x.Kind == k && x.N == n {
					rs = append(rs, x)
				}
			}
			if len(rs) == 0 {
				continue
			}
			col := func(f func(Result) float64) float64 { return medianOf(rs, f) }
			s := Summary{Runs: len(rs), Result: Result{Kind: k, N: n, Rooms: rs[0].Rooms, Held: rs[0].Held}}
			for _, x := range rs {
				s.Held = min(s.Held, x.Held)
				s.Dropped = max(s.Dropped, x.Dropped)
			}
			s.IdleRSS = col(func(x Result) float64 { return x.IdleRSS })
			s.JoinedRSS = col(func(x Result) float64 { return x.JoinedRSS })
			s.IdleHeap = col(func(x Result) float64 { return x.IdleHeap })
			s.JoinedHeap = col(func(x Result) float64 { return x.JoinedHeap })
			s.Goroutines = col(func(x Result) float64 { return x.Goroutines })
			s.Delivered = col(func(x Result) float64 { return x.Delivered })
			s.PerCPUSecond = col(func(x Result) float64 { return x.PerCPUSecond })
			s.ServerCPU = col(func(x Result) float64 { return x.ServerCPU })
			s.ClientCPU = col(func(x Result) float64 { return x.ClientCPU })
			s.ServerDrops = col(func(x Result) float64 { return x.ServerDrops })
			out = append(out, s)
		}
	}
	return out
}

// PacedSummaries returns the median paced figures per server.
func (r *Report) PacedSummaries() []Paced {
	var out []Paced
	for _, k := range r.Config.Servers {
		var runs []Paced
		for _, p := range r.Paced {
			if p.Kind == k {
				runs = append(runs, p)
			}
		}
		if s, ok := mergePaced(Paced{Kind: k}, runs); ok {
			out = append(out, s)
		}
	}
	return out
}

// mergePaced sums the runs' samples into s, keeps the most dropped and the
// median of each percentile; false when there are no runs.
func mergePaced(s Paced, runs []Paced) (Paced, bool) {
	if len(runs) == 0 {
		return s, false
	}
	var p50, p99, mx []time.Duration
	for _, p := range runs {
		s.Clients = p.Clients
		s.Samples += p.Samples
		s.Dropped = max(s.Dropped, p.Dropped)
		p50, p99, mx = append(p50, p.P50), append(p99, p.P99), append(mx, p.Max)
	}
	s.P50, s.P99, s.Max = medianDur(p50), medianDur(p99), medianDur(mx)
	return s, true
}

// medianOf is the median of f over rs.
func medianOf[T any](rs []T, f func(T) float64) float64 {
	xs := make([]float64, len(rs))
	for i, x := range rs {
		xs[i] = f(x)
	}
	return median(xs)
}

func kib(bytes float64) string {
	if math.IsNaN(bytes) {
		return "–"
	}
	return fmt.Sprintf("%.1f", bytes/1024)
}

func num(x float64, format string) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf(format, x)
}

// thousands writes x rounded, with thin groups of three digits.
func thousands(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// FleetSummaries returns the medians of the multi-server throughput runs
// per count and instances, in the order the configuration lists them.
// Dropped is the most of any run.
func (r *Report) FleetSummaries() []Fleet {
	var out []Fleet
	for _, n := range r.Config.Counts {
		for _, k := range r.Config.Instances {
			var rs []Fleet
			for _, x := range r.Fleet {
				if x.Instances == k && x.N == n {
					rs = append(rs, x)
				}
			}
			if len(rs) == 0 {
				continue
			}
			col := func(f func(Fleet) float64) float64 { return medianOf(rs, f) }
			s := Fleet{Instances: k, N: n}
			for _, x := range rs {
				s.Dropped = max(s.Dropped, x.Dropped)
			}
			s.Delivered = col(func(x Fleet) float64 { return x.Delivered })
			s.PerCPUSecond = col(func(x Fleet) float64 { return x.PerCPUSecond })
			s.PerCPUSecondNATS = col(func(x Fleet) float64 { return x.PerCPUSecondNATS })
			s.ServerCPU = col(func(x Fleet) float64 { return x.ServerCPU })
			s.NATSCPU = col(func(x Fleet) float64 { return x.NATSCPU })
			s.ClientCPU = col(func(x Fleet) float64 { return x.ClientCPU })
			s.ServerDrops = col(func(x Fleet) float64 { return x.ServerDrops })
			out = append(out, s)
		}
	}
	return out
}

// FleetPacedSummaries returns the median paced figures per instances.
func (r *Report) FleetPacedSummaries() []FleetPaced {
	var out []FleetPaced
	for _, k := range r.Config.Instances {
		var runs []Paced
		for _, p := range r.FleetPaced {
			if p.Instances == k {
				runs = append(runs, p.Paced)
			}
		}
		if s, ok := mergePaced(Paced{Kind: KindGo}, runs); ok {
			out = append(out, FleetPaced{Instances: k, Paced: s})
		}
	}
	return out
}

// writeFleet writes the multi-server comparison.
func (r *Report) writeFleet(b *strings.Builder) {
	c := r.Config
	fmt.Fprintf(b, "The Go server as 1 to %d instances; more than one share their rooms over one NATS server (nats-server, its own process), one keeps them in process. "+
		"All on this one machine (%d cores): the servers, the NATS server and the load generator share its cores. Medians of %d runs.\n\n",
		slices.Max(c.Instances), runtime.NumCPU(), c.Runs)
	if fs := r.FleetSummaries(); len(fs) > 0 {
		fmt.Fprintf(b, "Throughput: every client in one room, spread evenly over the servers, each sending %d-byte candidate messages as fast as a window allows (senders at most %d messages ahead of the slowest receiver), measured for %v after %v.\n\n",
			c.MessageBytes, c.Window, c.Duration, c.Warmup)
		b.WriteString("| servers | N | delivered msg/s | deliveries per server CPU-s | per CPU-s with NATS | servers CPU | NATS CPU | load CPU | dropped |\n")
		b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range fs {
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s | %s | %d |\n",
				s.Instances, thousands(float64(s.N)), thousands(s.Delivered), thousands(s.PerCPUSecond), thousands(s.PerCPUSecondNATS),
				num(s.ServerCPU*100, "%.0f%%"), num(s.NATSCPU*100, "%.0f%%"), num(s.ClientCPU*100, "%.0f%%"), s.Dropped)
		}
	}
	if ps := r.FleetPacedSummaries(); len(ps) > 0 {
		fmt.Fprintf(b, "\nPaced: %d clients in one room, spread evenly over the servers, %.0f messages a second each, for %v after %v; latency from send to receipt (medians of the runs' percentiles).\n\n",
			ps[0].Clients, c.PacedRate, c.PacedDuration, c.Warmup)
		b.WriteString("| servers | deliveries measured | p50 ms | p99 ms | max ms | dropped |\n|---:|---:|---:|---:|---:|---:|\n")
		for _, p := range ps {
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %d |\n", p.Instances, thousands(float64(p.Samples)), ms(p.P50), ms(p.P99), ms(p.Max), p.Dropped)
		}
	}
}

// WriteMarkdown writes the medians as Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) error {
	c := r.Config
	if len(c.Instances) > 0 {
		var b strings.Builder
		r.writeFleet(&b)
		_, err := io.WriteString(w, b.String())
		return err
	}
	var b strings.Builder
	sums := r.Summaries()
	roomsText := "rooms of 10"
	if c.Rooms > 0 {
		roomsText = fmt.Sprintf("%d rooms", c.Rooms)
	}
	fmt.Fprintf(&b, "Medians of %d runs; held is the fewest and dropped the most of any run. "+
		"Throughput: every client in one room, each sending %d-byte candidate messages as fast as a window allows (senders at most %d messages ahead of the slowest receiver), "+
		"measured for %v after %v; N above %d is measured idle only. Joined: %s (the Node server keeps no rooms).\n\n",
		c.Runs, c.MessageBytes, c.Window, c.Duration, c.Warmup, c.LoadMax, roomsText)
	b.WriteString("| N | server | held | dropped | RSS KiB/conn idle | RSS KiB/conn joined | Go heap KiB/conn idle / joined | goroutines/conn | delivered msg/s | deliveries per server CPU-s | server CPU | load CPU |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range sums {
		heap := "–"
		if !math.IsNaN(s.IdleHeap) {
			heap = kib(s.IdleHeap) + " / " + kib(s.JoinedHeap)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			thousands(float64(s.N)), s.Kind, s.Held, s.Dropped, kib(s.IdleRSS), kib(s.JoinedRSS), heap,
			num(s.Goroutines, "%.2f"), thousands(s.Delivered), thousands(s.PerCPUSecond),
			num(s.ServerCPU*100, "%.0f%%"), num(s.ClientCPU*100, "%.0f%%"))
	}
	if ratios := r.ratios(sums); ratios != "" {
		b.WriteString("\n" + ratios)
	}
	if ps := r.PacedSummaries(); len(ps) > 0 {
		fmt.Fprintf(&b, "\nPaced: %d clients in one room, %.0f messages a second each, for %v after %v; measured at the start of each run; latency from send to receipt (medians of the runs' percentiles).\n\n",
			ps[0].Clients, c.PacedRate, c.PacedDuration, c.Warmup)
		b.WriteString("| server | deliveries measured | p50 ms | p99 ms | max ms | dropped |\n|---|---:|---:|---:|---:|---:|\n")
		for _, p := range ps {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |\n", p.Kind, thousands(float64(p.Samples)), ms(p.P50), ms(p.P99), ms(p.Max), p.Dropped)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ratios compares the Go server with the Node server per count.
func (r *Report) ratios(sums []Summary) string {
	var lines []string
	for _, g := range sums {
		if g.Kind != KindGo || math.IsNaN(g.PerCPUSecond) {
			continue
		}
		for _, n := range sums {
			if n.Kind == KindNode && n.N == g.N && !math.IsNaN(n.PerCPUSecond) && n.PerCPUSecond > 0 {
				lines = append(lines, fmt.Sprintf("N=%s: Go/Node deliveries per server CPU-s %.1f×, delivered msg/s %.1f×",
					thousands(float64(g.N)), g.PerCPUSecond/n.PerCPUSecond, g.Delivered/n.Delivered))
			}
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "  \n") + "\n"
}
