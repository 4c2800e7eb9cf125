package browserbench

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Result is one run of one path.
type Result struct {
	Path Path
	// JoinToFirstFrameMs is the time from the sender's join, as the page
	// heard of it, to the time the page showed its first picture.
	JoinToFirstFrameMs float64
	// JoinToOfferMs runs from that join to the sender's first offer
	// reaching the page, OfferToAnswerMs from there to the page sending
	// its answer; the rest of JoinToFirstFrameMs is connecting (ICE,
	// DTLS) and the first picture's trip to the screen. NaN when the
	// page saw no offer or sent no answer.
	JoinToOfferMs, OfferToAnswerMs float64
	// Frames are the pictures shown in the window, Stamped those whose
	// stamp was read; WindowSeconds is the window's length.
	Frames, Stamped int
	WindowSeconds   float64
	// Width and Height are the last picture's size.
	Width, Height int
	// LatencyMs holds capture-to-screen latency of each stamped picture
	// in the window: the time it is shown less the capture time in its
	// stamp.
	LatencyMs []float64
	// CaptureTimeMs holds, for each picture whose requestVideoFrameCallback
	// metadata has a captureTime (which Chromium fills in only when the
	// sender tells it the capture time), the time shown less that.
	CaptureTimeMs []float64
	// Notes are errors the pages reported.
	Notes []string
}

// Percentile returns the q-th quantile (0 < q ≤ 1, nearest rank) of xs,
// or NaN when xs is empty.
func Percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// across gathers one figure of each run.
func across(rs []Result, f func(Result) float64) []float64 {
	var out []float64
	for _, r := range rs {
		if v := f(r); !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// spread formats the median of xs and their range; with p95, their 95th
// percentile after the median.
func spread(xs []float64, p95 bool) string {
	if len(xs) == 0 {
		return "–"
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	mid := ms(Percentile(xs, 0.5))
	if p95 {
		mid += " / " + ms(Percentile(xs, 0.95))
	}
	return fmt.Sprintf("%s (%s–%s)", mid, ms(lo), ms(hi))
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if math.Abs(v) < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// Summary is a path's figures over its runs.
type Summary struct {
	Path Path
	Runs int
	// P50 and P95 are each run's capture-to-screen p50 and p95.
	P50, P95 []float64
	// Join are each run's join to first frame, Offer its join to offer,
	// Answer its offer to answer.
	Join, Offer, Answer []float64
	// CaptureTimeP50 are each run's p50 from captureTime, where the
	// browser gave one.
	CaptureTimeP50 []float64
	// FPS are the pictures shown per second in each run.
	FPS []float64
	// Size is the last run's picture size.
	Width, Height int
}

// Summarize computes a path's summary from its runs.
func Summarize(p Path, rs []Result) Summary {
	s := Summary{Path: p, Runs: len(rs)}
	s.P50 = across(rs, func(r Result) float64 { return Percentile(r.LatencyMs, 0.5) })
	s.P95 = across(rs, func(r Result) float64 { return Percentile(r.LatencyMs, 0.95) })
	s.Join = across(rs, func(r Result) float64 { return r.JoinToFirstFrameMs })
	s.Offer = across(rs, func(r Result) float64 { return r.JoinToOfferMs })
	s.Answer = across(rs, func(r Result) float64 { return r.OfferToAnswerMs })
	s.CaptureTimeP50 = across(rs, func(r Result) float64 { return Percentile(r.CaptureTimeMs, 0.5) })
	s.FPS = across(rs, func(r Result) float64 {
		if r.WindowSeconds <= 0 {
			return math.NaN()
		}
		return float64(r.Frames) / r.WindowSeconds
	})
	if len(rs) > 0 {
		s.Width, s.Height = rs[len(rs)-1].Width, rs[len(rs)-1].Height
	}
	return s
}

// WriteTable prints the summaries as a Markdown table, then the two
// ratios the viewer page issue aims at when the paths they need ran.
func WriteTable(w io.Writer, sums []Summary) {
	fmt.Fprintln(w, "| path | runs | capture-to-screen p50, ms | capture-to-screen p95, ms | join → first frame p50 / p95 over runs, ms | p50 from captureTime, ms | shown fps | size |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---|")
	byPath := map[Path]Summary{}
	for _, s := range sums {
		byPath[s.Path] = s
		fps := "–"
		if len(s.FPS) > 0 {
			fps = fmt.Sprintf("%.1f", Percentile(s.FPS, 0.5))
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %dx%d |\n",
			s.Path.Describe(), s.Runs, spread(s.P50, false), spread(s.P95, false), spread(s.Join, true),
			spread(s.CaptureTimeP50, false), fps, s.Width, s.Height)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each cell: the median over the runs (the lowest–highest run). Capture-to-screen: per run, the p50 and p95 over every stamped picture shown in the window, stamp to the time requestVideoFrameCallback says it is shown. Join → first frame: the sender's join as the page hears of it to the first picture shown. captureTime: requestVideoFrameCallback's own capture time, which Chromium gives only for senders that tell it theirs (here the Chromium sender: its fake camera's capture, before the stamp is drawn).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| path | join → offer at the page, ms | offer → answer sent, ms | answer → first picture shown, ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, s := range sums {
		rest := "–"
		if j, o, a := Percentile(s.Join, 0.5), Percentile(s.Offer, 0.5), Percentile(s.Answer, 0.5); !math.IsNaN(j + o + a) {
			rest = ms(j - o - a)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.Path.Describe(), spread(s.Offer, false), spread(s.Answer, false), rest)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Where join → first frame goes: medians over the runs (lowest–highest); the last column is the median join → first frame less the other two medians.")
	fmt.Fprintln(w)
	ratio := func(what string, a, b Path, f func(Summary) []float64, aim string) {
		sa, oka := byPath[a]
		sb, okb := byPath[b]
		if !oka || !okb {
			return
		}
		x, y := Percentile(f(sa), 0.5), Percentile(f(sb), 0.5)
		if math.IsNaN(x) || math.IsNaN(y) || y == 0 {
			return
		}
		fmt.Fprintf(w, "%s: %s / %s = %.2f (aim %s)\n", what, a, b, x/y, aim)
	}
	ratio("Capture-to-screen p50, our robot into our page against a Chromium sender", RobotToPage, ChromiumToOriginal,
		func(s Summary) []float64 { return s.P50 }, "≤ 0.7")
	ratio("Join → first frame, our robot against the aiortc robot into our page", RobotToPage, AiortcToPage,
		func(s Summary) []float64 { return s.Join }, "≤ 0.5")
}

// Describe lists a result's figures on one line, for progress output.
func (r Result) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: join → first frame %s ms; %d pictures shown, %d stamped, %dx%d; capture-to-screen p50 %s / p95 %s ms; from captureTime p50 %s ms",
		r.Path, ms(r.JoinToFirstFrameMs), r.Frames, r.Stamped, r.Width, r.Height,
		ms(Percentile(r.LatencyMs, 0.5)), ms(Percentile(r.LatencyMs, 0.95)), ms(Percentile(r.CaptureTimeMs, 0.5)))
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "; notes %q", r.Notes)
	}
	return b.String()
}
