package mediabench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Report gathers every run of a benchmark and prints it as Markdown.
type Report struct {
	// Machine and Setup are printed above the table.
	Machine, Setup string
	// Video are the decode runs (two processes), Samples the runs with
	// an undecoding receiver, Audio the click runs.
	Video, Samples, Audio []Pair
	// Quality are the in-process runs that compare decoded frames with
	// the sent ones.
	Quality []Pair
	// Memory is the many-pairs run; nil when skipped.
	Memory *MemoryResult

	// Programs are runs of examples/sender, as users run it, into the
	// measuring receiver through examples/signal-server; ProgramsNode
	// the same through the original deployment's Node.js server;
	// ProgramsReceiver runs of examples/sender into examples/receiver.
	Programs, ProgramsNode, ProgramsReceiver []ProgramRun
	// ViewerJoins are runs of a viewer joining examples/sender already
	// up and waiting.
	ViewerJoins []ViewerJoin
}

// ClickMatchWindow is how long after a click at the source a click at the
// sink may come and still count as the same one: under the source's
// 500 ms period.
const ClickMatchWindow = 250 * time.Millisecond

// Row is one line of the table: a figure, its median over the runs, each
// run's value, and the aim it is held against.
type Row struct {
	Name   string
	Median float64
	Runs   []float64
	Unit   string
	Aim    string
}

func newRow(name, unit, aim string, runs []float64) Row {
	return Row{Name: name, Unit: unit, Aim: aim, Runs: runs, Median: Median(runs)}
}

// per is f of each run.
func per[T any](runs []T, f func(T) float64) []float64 {
	out := make([]float64, 0, len(runs))
	for _, r := range runs {
		out = append(out, f(r))
	}
	return out
}

func sinceMs(a, b time.Time) float64 {
	if a.IsZero() || b.IsZero() {
		return math.NaN()
	}
	return Ms(b.Sub(a))
}

// AudioDelaysMs matches the clicks of an audio run and returns their
// delays in milliseconds.
func AudioDelaysMs(p Pair) []float64 {
	var out []float64
	for _, d := range MatchClicks(p.Sender.Clicks, p.Receiver.Clicks, ClickMatchWindow) {
		out = append(out, Ms(d))
	}
	return out
}

// Rows computes the table.
func (r *Report) Rows() []Row {
	rows := r.programRows()
	lat := func(p Pair, q float64) float64 { return Percentile(p.Receiver.LatencyMs, q) }
	if len(r.Video) > 0 {
		v := r.Video
		rows = append(rows,
			newRow("Capture-to-decoded video latency p50 (capture stamp → decoded frame at the sink)", "ms", "≤ 8", per(v, func(p Pair) float64 { return lat(p, 50) })),
			newRow("Capture-to-decoded video latency p95", "ms", "≤ 12", per(v, func(p Pair) float64 { return lat(p, 95) })),
			newRow("Capture-to-decoded video latency max", "ms", "", per(v, func(p Pair) float64 { return lat(p, 100) })),
		)
	}
	if len(r.Samples) > 0 {
		s := r.Samples
		rows = append(rows,
			newRow("Stamp → last packet of the frame received p50", "ms", "", per(s, func(p Pair) float64 { return lat(p, 50) })),
			newRow("Stamp → last packet of the frame received p95", "ms", "", per(s, func(p Pair) float64 { return lat(p, 95) })),
		)
	}
	if len(r.Video) > 0 {
		v := r.Video
		rows = append(rows,
			newRow("Encode time per frame (Stats.VideoOut.EncodeTime)", "ms", "", per(v, func(p Pair) float64 { return Ms(p.Sender.Stats.VideoOut.EncodeTime) })),
			newRow("Decode time per frame (Stats.VideoIn.DecodeTime)", "ms", "", per(v, func(p Pair) float64 { return Ms(p.Receiver.Stats.VideoIn.DecodeTime) })),
		)
	}
	if len(r.Audio) > 0 {
		a := r.Audio
		rows = append(rows,
			newRow("Audio latency p50 (click at 48 kHz source → click in decoded Opus at the sink)", "ms", "", per(a, func(p Pair) float64 { return Median(AudioDelaysMs(p)) })),
			newRow("Audio latency p95", "ms", "", per(a, func(p Pair) float64 { return Percentile(AudioDelaysMs(p), 95) })),
		)
	}
	if len(r.Video) > 0 {
		v := r.Video
		rows = append(rows,
			newRow("Sender joins (wsclient.Dial) → first decoded frame at the receiver", "ms", "≤ 30", per(v, func(p Pair) float64 { return sinceMs(p.Sender.JoinStart, p.Receiver.First) })),
			newRow("… of which wsclient.Dial", "ms", "", per(v, func(p Pair) float64 { return sinceMs(p.Sender.JoinStart, p.Sender.Dialled) })),
			newRow("… of which Dial returned → sender connected", "ms", "", per(v, func(p Pair) float64 { return sinceMs(p.Sender.Dialled, p.Sender.Connected) })),
			newRow("… of which sender connected → first decoded frame", "ms", "", per(v, func(p Pair) float64 { return sinceMs(p.Sender.Connected, p.Receiver.First) })),
			newRow("…… sender connected → receiver connected", "ms", "", per(v, func(p Pair) float64 { return sinceMs(p.Sender.Connected, p.Receiver.Connected) })),
			newRow("…… sender connected → capture of the first decoded frame (stamp, ms-truncated)", "ms", "", per(v, func(p Pair) float64 { return sinceMs(p.Sender.Connected, p.Receiver.FirstStamp) })),
			newRow("…… capture → decode of the first decoded frame (a keyframe)", "ms", "", per(v, func(p Pair) float64 { return sinceMs(p.Receiver.FirstStamp, p.Receiver.First) })),
		)
	}
	if len(r.Video) > 0 {
		v := r.Video
		rows = append(rows,
			newRow("Sender CPU, video (user+sys per second of media)", "% of a core", "≤ 10", per(v, func(p Pair) float64 { return p.Sender.CPUPercent })),
			newRow("… bitrate actually sent (Stats.Transport.BitrateOut)", "kbit/s", "500", per(v, func(p Pair) float64 { return p.Sender.Stats.Transport.BitrateOut / 1000 })),
			newRow("… frames decoded per second (Stats.VideoIn.FPS)", "fps", "30", per(v, func(p Pair) float64 { return p.Receiver.Stats.VideoIn.FPS })),
			newRow("Receiver CPU, video decoded (user+sys per second of media)", "% of a core", "≤ 6", per(v, func(p Pair) float64 { return p.Receiver.CPUPercent })),
		)
	}
	if len(r.Samples) > 0 {
		rows = append(rows, newRow("Receiver CPU, video received but not decoded (SampleSink)", "% of a core", "", per(r.Samples, func(p Pair) float64 { return p.Receiver.CPUPercent })))
	}
	if len(r.Audio) > 0 {
		rows = append(rows,
			newRow("Sender CPU, audio only (clicks → Opus)", "% of a core", "", per(r.Audio, func(p Pair) float64 { return p.Sender.CPUPercent })),
			newRow("Receiver CPU, audio only (Opus → sink)", "% of a core", "", per(r.Audio, func(p Pair) float64 { return p.Receiver.CPUPercent })),
		)
	}
	if q := r.Quality; len(q) > 0 {
		meanOf := func(f func(PSNR) float64) func(Pair) float64 {
			return func(p Pair) float64 {
				var xs []float64
				for _, x := range p.Receiver.PSNR {
					xs = append(xs, f(x))
				}
				return mean(xs)
			}
		}
		frames := 0
		for _, p := range q {
			frames += len(p.Receiver.PSNR)
		}
		rows = append(rows,
			newRow(fmt.Sprintf("PSNR of decoded against sent frames, luma, mean per run (%d frames in all; in-process runs)", frames), "dB", "stated", per(q, meanOf(func(p PSNR) float64 { return p.Y }))),
			newRow("PSNR, all planes, mean per run", "dB", "stated", per(q, meanOf(func(p PSNR) float64 { return p.All }))),
			newRow("… bitrate sent in those runs (Stats.Transport.BitrateOut)", "kbit/s", "500", per(q, func(p Pair) float64 { return p.Sender.Stats.Transport.BitrateOut / 1000 })),
			newRow("Capture-to-decoded p50, sender and receiver in one process (same runs)", "ms", "", per(q, func(p Pair) float64 { return lat(p, 50) })),
		)
	}
	if len(r.Video) > 0 {
		rows = append(rows,
			newRow("Sender process RSS (one session, after the window)", "MiB", "", per(r.Video, func(p Pair) float64 { return mib(p.Sender.Memory.RSS) })),
			newRow("Receiver process RSS (one session, after the window)", "MiB", "", per(r.Video, func(p Pair) float64 { return mib(p.Receiver.Memory.RSS) })),
		)
	}
	if m := r.Memory; m != nil {
		rows = append(rows,
			newRow(fmt.Sprintf("Memory per sender+receiver pair, RSS growth from 1 to %d pairs ÷ %d", m.Pairs, m.Pairs-1), "MiB", "", []float64{m.RSSPerPair() / (1 << 20)}),
			newRow("Memory per sender+receiver pair, Go heap in use (same)", "MiB", "", []float64{m.HeapPerPair() / (1 << 20)}),
		)
	}
	return rows
}

// programRows are the figures of the example programs as users run them.
func (r *Report) programRows() []Row {
	var rows []Row
	recv := func(f func(PeerResult) float64) func(ProgramRun) float64 {
		return func(x ProgramRun) float64 {
			if x.Receiver == nil {
				return math.NaN()
			}
			return f(*x.Receiver)
		}
	}
	if p := r.Programs; len(p) > 0 {
		rows = append(rows,
			newRow("examples/sender joins the room (its log) → first decoded frame, examples/signal-server", "ms", "≤ 30", per(p, func(x ProgramRun) float64 { return sinceMs(x.SenderJoined, firstOf(x)) })),
			newRow("… from its process start", "ms", "", per(p, func(x ProgramRun) float64 { return sinceMs(x.SenderStarted, firstOf(x)) })),
			newRow("… of which join → connected (its log)", "ms", "", per(p, func(x ProgramRun) float64 { return sinceMs(x.SenderJoined, x.SenderConnected) })),
			newRow("Picture-loss requests from the receiver (the first frame is the keyframe sent on connect)", "count", "0", per(p, recv(func(x PeerResult) float64 { return float64(x.Stats.VideoIn.PLIsSent) }))),
			newRow("Capture-to-decoded p50, examples/sender (video + audio, congestion control on)", "ms", "≤ 3.5", per(p, recv(func(x PeerResult) float64 { return Percentile(x.LatencyMs, 50) }))),
			newRow("Capture-to-decoded p95", "ms", "≤ 5", per(p, recv(func(x PeerResult) float64 { return Percentile(x.LatencyMs, 95) }))),
			newRow("Capture-to-decoded max", "ms", "", per(p, recv(func(x PeerResult) float64 { return Percentile(x.LatencyMs, 100) }))),
			newRow("Frames missing at the receiver (gaps in the stamped frame counter, first frame to end of window)", "frames", "0", per(p, recv(func(x PeerResult) float64 { return float64(x.Missing) }))),
			newRow("… frames the sender counted as not sent (its Stats: stale and dropped, whole run, logged at debug level)", "frames", "", per(p, func(x ProgramRun) float64 { return float64(x.SenderSkipped) })),
			newRow("examples/sender CPU, whole process (video + audio, congestion control on)", "% of a core", "≤ 10", per(p, func(x ProgramRun) float64 { return x.SenderCPUPercent })),
			newRow("… bitrate received (Stats.Transport.BitrateIn at the receiver)", "kbit/s", "", per(p, recv(func(x PeerResult) float64 { return x.Stats.Transport.BitrateIn / 1000 }))),
			newRow("… frames decoded per second", "fps", "30", per(p, recv(func(x PeerResult) float64 { return x.Stats.VideoIn.FPS }))),
			newRow("examples/sender exit after SIGTERM", "ms", "≤ 2000", per(p, func(x ProgramRun) float64 { return Ms(x.SenderExit) })),
		)
	}
	if v := r.ViewerJoins; len(v) > 0 {
		rows = append(rows,
			newRow("A viewer (the measuring receiver, its own process) joins examples/sender waiting in the room → first decoded frame", "ms", "", per(v, func(x ViewerJoin) float64 { return sinceMs(x.Viewer.Dialled, x.Viewer.First) })),
			newRow("… of which join → connected", "ms", "", per(v, func(x ViewerJoin) float64 { return sinceMs(x.Viewer.Dialled, x.Viewer.Connected) })),
			newRow("… picture-loss requests", "count", "0", per(v, func(x ViewerJoin) float64 { return float64(x.Viewer.Stats.VideoIn.PLIsSent) })),
			newRow("… frames missing at the viewer, first frame to end of its window", "frames", "0", per(v, func(x ViewerJoin) float64 { return float64(x.Viewer.Missing) })),
		)
	}
	if p := r.ProgramsNode; len(p) > 0 {
		rows = append(rows,
			newRow("examples/sender joins (its log) → first decoded frame, the original deployment's Node.js server", "ms", "≤ 200", per(p, func(x ProgramRun) float64 { return sinceMs(x.SenderJoined, firstOf(x)) })),
		)
	}
	if p := r.ProgramsReceiver; len(p) > 0 {
		rows = append(rows,
			newRow("examples/receiver CPU, whole process (decoding the sender's video + audio)", "% of a core", "≤ 6", per(p, func(x ProgramRun) float64 { return x.ReceiverCPUPercent })),
			newRow("… examples/sender CPU in the same runs", "% of a core", "≤ 10", per(p, func(x ProgramRun) float64 { return x.SenderCPUPercent })),
		)
	}
	return rows
}

func firstOf(x ProgramRun) time.Time {
	if x.Receiver == nil {
		return time.Time{}
	}
	return x.Receiver.First
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case math.IsInf(x, 0):
		return "∞"
	case math.Abs(x) >= 100:
		return fmt.Sprintf("%.0f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// Markdown writes the machine, the setup and the table.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	if r.Machine != "" {
		fmt.Fprintf(&b, "%s\n\n", r.Machine)
	}
	if r.Setup != "" {
		fmt.Fprintf(&b, "%s\n\n", r.Setup)
	}
	b.WriteString("| Figure | Median | Runs | Unit | Aim |\n|---|---:|---|---|---|\n")
	for _, row := range r.Rows() {
		runs := make([]string, len(row.Runs))
		for i, x := range row.Runs {
			runs[i] = num(x)
		}
		rs := strings.Join(runs, ", ")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.Name, num(row.Median), rs, row.Unit, row.Aim)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
