// Command browserbench measures video into headless Chromium over four
// paths in one run — our robot (examples/sender) into our viewer page and
// into the original page, the original Python aiortc robot into our page,
// and a Chromium sender into the original page — and prints, for each,
// capture-to-screen latency (the capture stamp read at
// requestVideoFrameCallback) and join to first frame, over several runs.
//
//	go run ./internal/browserbench/cmd/browserbench             # 9 runs of each path, 10 s each
//	go run ./internal/browserbench/cmd/browserbench -runs 1 -window 3s -paths robot-page,aiortc-page
//
// Run it from the module root (or give -repo). It needs /usr/bin/chromium
// and, for the aiortc path, Debian's python3-aiortc. Runs go round the
// paths in turn, so a change in the machine's load falls on all of them.
//
// Then, unless -freezes is 0, it freezes examples/sender (SIGSTOP) that
// many times while our page can drive, and prints how soon after the
// last picture the page turned driving off (freeze → lockout, p50 / p95).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/avlink/avlink/internal/browserbench"
)

func main() {
	runs := flag.Int("runs", 9, "runs of each path; the table gives the median and range over them")
	window := flag.Duration("window", 10*time.Second, "latency is recorded for this long in each run")
	warmup := flag.Duration("warmup", time.Second, "wait this long after the first picture before recording")
	timeout := flag.Duration("timeout", 30*time.Second, "bound on each stage of a run (joining, the first picture)")
	paths := flag.String("paths", "all", "comma-separated paths to measure: "+joinPaths()+", or all")
	repo := flag.String("repo", ".", "module root: the example programs are built there")
	chromium := flag.String("chromium", "", "Chromium binary (default $AVLINK_CHROMIUM or /usr/bin/chromium)")
	chromiumArgs := flag.String("chromium-args", "", "more comma-separated switches for every Chromium, e.g. --disable-features=WebRtcHideLocalIpsWithMdns")
	python := flag.String("python", "", "python3 with aiortc (default $AVLINK_PYTHON or /usr/bin/python3)")
	coldAudio := flag.Bool("cold-audio", false, "leave each page's audio output to start with its first call (by default it is started when the page loads, before the sender joins)")
	freezes := flag.Int("freezes", 9, "times the robot is frozen for the freeze → lockout figure; 0 skips it")
	verbose := flag.Bool("v", false, "pass every program's and browser's output through to stderr, and log each stage of a run")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := browserbench.Config{
		Repo: *repo, Chromium: *chromium, Python: *python, ChromiumArgs: splitArgs(*chromiumArgs),
		Warmup: *warmup, Window: *window, Timeout: *timeout, ColdAudio: *coldAudio,
	}
	level := slog.LevelInfo
	if *verbose {
		cfg.LogTo = os.Stderr
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(ctx, cfg, *runs, *paths, *freezes, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "browserbench:", err)
		os.Exit(1)
	}
}

func splitArgs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func joinPaths() string {
	var s []string
	for _, p := range browserbench.Paths {
		s = append(s, string(p))
	}
	return strings.Join(s, ", ")
}

func run(ctx context.Context, cfg browserbench.Config, runs int, pathList string, freezes int, out io.Writer) error {
	if runs < 1 {
		return fmt.Errorf("%w: -runs must be at least 1", browserbench.ErrConfig)
	}
	paths, err := browserbench.ParsePaths(pathList)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := browserbench.Check(ctx, cfg, p); err != nil {
			return fmt.Errorf("path %s: %w", p, err)
		}
	}
	b, err := browserbench.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	results := map[browserbench.Path][]browserbench.Result{}
	start := time.Now()
	for i := range runs {
		for _, p := range paths {
			r, err := b.Run(ctx, p)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				// One failed run is reported and left out, not fatal.
				fmt.Fprintf(os.Stderr, "browserbench: run %d of %s failed: %v\n", i+1, p, err)
				if errors.Is(err, browserbench.ErrConfig) {
					return err
				}
				continue
			}
			fmt.Fprintf(os.Stderr, "browserbench: run %d/%d %s\n", i+1, runs, r.Describe())
			results[p] = append(results[p], r)
		}
	}
	var sums []browserbench.Summary
	for _, p := range paths {
		sums = append(sums, browserbench.Summarize(p, results[p]))
	}
	audio := "each page's audio output started when it loads, before the sender joins"
	if cfg.ColdAudio {
		audio = "each page's audio output left to start with its first call (-cold-audio)"
	}
	fmt.Fprintf(out, "browserbench: %d runs of each path, %v window after %v warm-up; %s; %s, %d CPUs, load average %s; took %v\n\n",
		runs, cfg.Window, cfg.Warmup, audio, runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), loadavg(), time.Since(start).Round(time.Second))
	browserbench.WriteTable(out, sums)
	if freezes > 0 {
		l, err := b.Lockout(ctx, freezes)
		if err != nil {
			return fmt.Errorf("freeze → lockout: %w", err)
		}
		fmt.Fprintln(out)
		browserbench.WriteLockout(out, l)
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
