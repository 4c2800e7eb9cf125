// Command mediabench measures avlink's media pipeline on loopback and
// prints a Markdown table: capture-to-decoded video latency, capture to
// last packet, encode and decode time, audio latency, join to first frame,
// sender and receiver CPU with the bitrate sent and the PSNR received,
// and memory per session.
//
//	go run ./internal/mediabench/cmd                      # 640x480@30, 500 kbit/s, 3 runs of 10 s
//	go run ./internal/mediabench/cmd -runs 1 -duration 5s -bitrate 1000000
//
// First it builds examples/sender and examples/receiver and runs them as
// users run them, through examples/signal-server and through the original
// deployment's Node.js server (when node and npm are installed), each in
// its own process: join to first frame, capture-to-decoded latency,
// frames missing, and each program's whole-process CPU. Then it measures
// the library itself: sender and receiver as two processes (this binary
// re-executed with -peer), so each one's CPU time is its own, with the
// signaling server in this process. All share the machine's cores.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/avlink/avlink/internal/mediabench"
	"github.com/avlink/avlink/internal/procstat"
	"github.com/avlink/avlink/internal/signalbench"
)

func main() {
	peer := flag.String(mediabench.ChildFlag, "", "run one peer with this JSON configuration (used by the benchmark itself)")
	width := flag.Int("width", 640, "frame width")
	height := flag.Int("height", 480, "frame height")
	fps := flag.Int("fps", 30, "frames per second")
	bitrate := flag.Int("bitrate", 500_000, "video bitrate in bit/s (congestion control off)")
	duration := flag.Duration("duration", 10*time.Second, "measurement window of each run")
	warmup := flag.Duration("warmup", time.Second, "time after connecting before the window starts")
	runs := flag.Int("runs", 3, "runs of each kind; the table gives medians")
	pairs := flag.Int("pairs", 4, "sender and receiver pairs in the memory run")
	reuse := flag.Bool("reuse-frames", true, "decode into a reused buffer (playback/vp8 ReuseFrames)")
	only := flag.String("only", "programs,viewer,node,receiver,video,samples,audio,psnr,memory", "comma-separated kinds of run to make: programs (examples/sender as users run it, into the measuring receiver), viewer (the measuring receiver joining examples/sender already waiting), node (the same through the original Node.js server), receiver (examples/sender into examples/receiver), then the library-level runs")
	repo := flag.String("repo", ".", "module root, where the example programs are built")
	profile := flag.String("profile", "", "directory for CPU profiles of the measurement window of each kind's first run (KIND-sender.pprof, KIND-receiver.pprof)")
	viewers := flag.String("viewers", "", "instead of the usual runs, measure examples/sender serving this many viewers at once (comma-separated counts, e.g. 1,2,4,8)")
	verbose := flag.Bool("v", false, "pass the peers' stderr through (set "+mediabench.LogEnv+"=1 for their debug logs)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *peer != "" {
		if err := child(ctx, *peer); err != nil {
			fmt.Fprintln(os.Stderr, "mediabench peer:", err)
			os.Exit(1)
		}
		return
	}
	base := mediabench.PeerConfig{Width: *width, Height: *height, FPS: *fps, Bitrate: *bitrate,
		Warmup: *warmup, Window: *duration, ReuseFrames: *reuse, Pairs: *pairs}
	var logTo io.Writer
	if *verbose {
		logTo = os.Stderr
	}
	if *viewers != "" {
		if err := runViewers(ctx, *viewers, *repo, base, *runs, os.Stdout, logTo); err != nil {
			fmt.Fprintln(os.Stderr, "mediabench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, base, *runs, kinds(*only), *profile, *repo, logTo); err != nil {
		fmt.Fprintln(os.Stderr, "mediabench:", err)
		os.Exit(1)
	}
}

func kinds(s string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		m[strings.TrimSpace(k)] = true
	}
	return m
}

func child(ctx context.Context, js string) error {
	var cfg mediabench.PeerConfig
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		return fmt.Errorf("bad -%s: %w", mediabench.ChildFlag, err)
	}
	if os.Getenv(mediabench.LogEnv) != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return mediabench.RunChild(ctx, cfg, os.Stdin, os.Stdout)
}

func run(ctx context.Context, base mediabench.PeerConfig, runs int, want map[string]bool, profile, repo string, logTo io.Writer) error {
	if runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	rep := &mediabench.Report{Machine: machine(), Setup: setup(base, runs)}
	if err := runPrograms(ctx, rep, exe, repo, base, runs, want, logTo); err != nil {
		return err
	}
	sig, err := mediabench.StartSignaling(nil)
	if err != nil {
		return err
	}
	defer sig.Close()
	base.Signal = sig.URL

	pair := func(kind string, i int, send, recv mediabench.Mode) (mediabench.Pair, error) {
		s, r := base, base
		s.Mode, r.Mode = send, recv
		s.Room = fmt.Sprintf("%s-%d", kind, i)
		r.Room = s.Room
		if profile != "" && i == 0 {
			s.CPUProfile = filepath.Join(profile, kind+"-sender.pprof")
			r.CPUProfile = filepath.Join(profile, kind+"-receiver.pprof")
		}
		fmt.Fprintf(os.Stderr, "mediabench: %s run %d of %d (%v)…\n", kind, i+1, runs, s.Warmup+s.Window)
		p, err := mediabench.RunPair(exe, s, r, logTo)
		if err != nil {
			return p, fmt.Errorf("%s run %d: %w", kind, i+1, err)
		}
		return p, ctx.Err()
	}
	if profile != "" {
		if err := os.MkdirAll(profile, 0o755); err != nil {
			return err
		}
	}
	for i := range runs {
		if want["video"] {
			p, err := pair("video", i, mediabench.SendVideo, mediabench.ReceiveDecode)
			if err != nil {
				return err
			}
			rep.Video = append(rep.Video, p)
		}
		if want["samples"] {
			p, err := pair("samples", i, mediabench.SendVideo, mediabench.ReceiveSamples)
			if err != nil {
				return err
			}
			rep.Samples = append(rep.Samples, p)
		}
		if want["audio"] {
			p, err := pair("audio", i, mediabench.SendAudio, mediabench.ReceiveAudio)
			if err != nil {
				return err
			}
			rep.Audio = append(rep.Audio, p)
		}
	}
	if want["psnr"] {
		for i := range runs {
			fmt.Fprintf(os.Stderr, "mediabench: PSNR run %d of %d, in one process (%v)…\n", i+1, runs, base.Warmup+base.Window)
			s, r := base, base
			s.Mode, r.Mode = mediabench.SendVideo, mediabench.ReceiveDecode
			s.Room = fmt.Sprintf("psnr-%d", i)
			r.Room = s.Room
			ring := mediabench.NewFrameRing(64)
			s.Ring, r.Ring = ring, ring
			r.ReuseFrames = false
			p, err := mediabench.RunInProcess(ctx, s, r)
			if err != nil {
				return fmt.Errorf("PSNR run %d: %w", i+1, err)
			}
			rep.Quality = append(rep.Quality, p)
		}
	}
	if want["memory"] {
		fmt.Fprintf(os.Stderr, "mediabench: memory run, %d pairs in one process…\n", base.Pairs)
		m := base
		m.Room = "memory"
		mr, err := mediabench.RunMemoryChild(exe, m, logTo)
		if err != nil {
			return fmt.Errorf("memory run: %w", err)
		}
		rep.Memory = &mr
	}
	rep.Setup += " Load average at the end: " + loadavg() + "."
	return rep.Markdown(os.Stdout)
}

// runPrograms runs the example programs as users run them: built from
// repo, through examples/signal-server (and the original Node.js server)
// in their own processes.
func runPrograms(ctx context.Context, rep *mediabench.Report, exe, repo string, base mediabench.PeerConfig, runs int, want map[string]bool, logTo io.Writer) error {
	if !want["programs"] && !want["viewer"] && !want["node"] && !want["receiver"] {
		return nil
	}
	fmt.Fprintln(os.Stderr, "mediabench: building the example programs…")
	progs, err := mediabench.BuildPrograms(ctx, repo)
	if err != nil {
		return err
	}
	defer progs.Close()
	recv := base
	recv.Mode = mediabench.ReceiveDecode
	through := func(k signalbench.Kind, kind string, runs int, cfg mediabench.PeerConfig, useReceiver bool) ([]mediabench.ProgramRun, error) {
		return onServer(ctx, repo, k, kind, runs, cfg.Warmup+cfg.Window, func(url, room string) (mediabench.ProgramRun, error) {
			return mediabench.RunProgram(exe, progs, url, room, cfg, useReceiver, logTo)
		})
	}
	if want["programs"] {
		if rep.Programs, err = through(signalbench.KindGo, "programs", runs, recv, false); err != nil {
			return err
		}
	}
	if want["viewer"] {
		join := recv
		join.Warmup, join.Window = 0, time.Second
		rep.ViewerJoins, err = onServer(ctx, repo, signalbench.KindGo, "viewer", 3*runs, join.Warmup+join.Window, func(url, room string) (mediabench.ViewerJoin, error) {
			return mediabench.RunViewerJoin(exe, progs, url, room, join, logTo)
		})
		if err != nil {
			return err
		}
	}
	if want["node"] {
		join := recv
		join.Warmup, join.Window = 0, time.Second
		// Joins only: the window is short, so more runs cost little.
		rep.ProgramsNode, err = through(signalbench.KindNode, "node", 3*runs, join, false)
		if errors.Is(err, signalbench.ErrServerStart) {
			fmt.Fprintf(os.Stderr, "mediabench: skipping the Node.js server runs: %v\n", err)
		} else if err != nil {
			return err
		}
	}
	if want["receiver"] {
		if rep.ProgramsReceiver, err = through(signalbench.KindGo, "receiver", runs, recv, true); err != nil {
			return err
		}
	}
	return nil
}

// onServer starts the signaling server of kind k and makes runs runs of
// one through it, each in a room of its own; each is said to take about
// each.
func onServer[T any](ctx context.Context, repo string, k signalbench.Kind, kind string, runs int, each time.Duration, one func(url, room string) (T, error)) ([]T, error) {
	srv, err := signalbench.StartProcess(ctx, repo, k)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	var out []T
	for i := range runs {
		fmt.Fprintf(os.Stderr, "mediabench: %s run %d of %d (%v)…\n", kind, i+1, runs, each)
		r, err := one(srv.URL(), fmt.Sprintf("%s-%d", kind, i))
		if err != nil {
			return out, fmt.Errorf("%s run %d: %w", kind, i+1, err)
		}
		out = append(out, r)
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := procstat.ParseCPUModel(b); m != "" {
			model = m
		}
	}
	return fmt.Sprintf("Machine: %d cores (nproc), %s, %s/%s, %s; load average at the start: %s. Sender, receiver and signaling server are three processes sharing these cores (with whatever else the machine runs).",
		runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version(), loadavg())
}

func setup(c mediabench.PeerConfig, runs int) string {
	return fmt.Sprintf("Setup: loopback. The examples/ rows run the programs as users run them, each its own process: examples/signal-server "+
		"(or the original deployment's Node.js server), examples/sender with its defaults (640x480@30 stamped test pattern and a tone, VP8 from "+
		"500 kbit/s with congestion control on, Opus with FEC) and the benchmark's measuring receiver (started with the programs' settings, "+
		"internal/tune) or examples/receiver; their CPU is each whole process's. The other rows measure the library: %dx%d@%d stamped test pattern, VP8 (capture/vp8 defaults) at %d kbit/s with congestion "+
		"control off, Opus 20 ms mono, in processes of the benchmark's own. %d run(s) of each kind, %v warm-up then a %v window "+
		"(1 s for the join runs); decoder ReuseFrames=%v.",
		c.Width, c.Height, c.FPS, c.Bitrate/1000, runs, c.Warmup, c.Window, c.ReuseFrames)
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
