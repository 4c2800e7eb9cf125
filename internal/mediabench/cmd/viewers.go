package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/avlink/avlink/internal/mediabench"
	"github.com/avlink/avlink/internal/signalbench"
)

// runViewers measures examples/sender serving several viewers at once
// (-viewers), each viewer a measuring receiver in its own process: the
// sender's CPU, the slowest viewer's frame rate and the viewers'
// capture-to-decoded p50, for each count in list, beside the sender's
// one-session mode with one viewer. It prints a Markdown table.
func runViewers(ctx context.Context, list, repo string, base mediabench.PeerConfig, runs int, out, logTo io.Writer) error {
	var counts []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-viewers %q: want counts such as 1,2,4,8", list)
		}
		counts = append(counts, n)
	}
	most := slices.Max(counts)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "mediabench: building the example programs…")
	progs, err := mediabench.BuildPrograms(ctx, repo)
	if err != nil {
		return err
	}
	defer progs.Close()
	srv, err := signalbench.StartProcess(ctx, repo, signalbench.KindGo)
	if err != nil {
		return err
	}
	defer srv.Close()

	type row struct {
		name     string
		cpu      []float64
		fps, p50 []float64
		missing  int
	}
	var rows []row
	measure := func(name string, viewers, maxViewers int) error {
		r := row{name: name}
		for i := range runs {
			fmt.Fprintf(os.Stderr, "mediabench: %s, run %d of %d…\n", name, i+1, runs)
			v, err := mediabench.RunViewers(exe, progs, srv.URL(), fmt.Sprintf("viewers-%d-%d-%d", viewers, maxViewers, i), base, viewers, maxViewers, logTo)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", name, i+1, err)
			}
			r.cpu = append(r.cpu, v.SenderCPUPercent)
			r.fps = append(r.fps, v.MinFPS())
			r.p50 = append(r.p50, v.LatencyP50())
			r.missing += v.Missing()
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rows = append(rows, r)
		return nil
	}
	if err := measure("1 viewer, one session (-viewers 1)", 1, 1); err != nil {
		return err
	}
	for _, n := range counts {
		if err := measure(fmt.Sprintf("%d viewer(s), encoded once (-viewers %d)", n, most), n, most); err != nil {
			return err
		}
	}
	one := mediabench.Median(rows[1].cpu)
	fmt.Fprintf(out, "\n| examples/sender serving | sender CPU, %% of a core | × one viewer encoded once | slowest viewer's fps | capture-to-decoded p50, ms | frames missing |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		c := mediabench.Median(r.cpu)
		fmt.Fprintf(out, "| %s | %.1f | %.2f | %.1f | %.1f | %d |\n", r.name, c, c/one, mediabench.Median(r.fps), mediabench.Median(r.p50), r.missing)
	}
	fmt.Fprintf(out, "\nMedians of %d runs; %v warm-up, %v window; each viewer its own process.\n", runs, base.Warmup, base.Window)
	return nil
}
