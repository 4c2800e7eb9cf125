package browserbench

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	assert.True(t, math.IsNaN(Percentile(nil, 0.5)))
	xs := []float64{9, 1, 8, 2, 7, 3, 6, 4, 5}
	assert.Equal(t, 5.0, Percentile(xs, 0.5), "the median of nine")
	assert.Equal(t, 9.0, Percentile(xs, 0.95), "nearest rank: the ninth of nine")
	assert.Equal(t, 1.0, Percentile(xs, 0.01))
	assert.Equal(t, []float64{9, 1, 8, 2, 7, 3, 6, 4, 5}, xs, "the input is left as it was")
	assert.Equal(t, 2.0, Percentile([]float64{1, 2, 3, 4}, 0.5))
}

func TestParsePaths(t *testing.T) {
	ps, err := ParsePaths("all")
	require.NoError(t, err)
	assert.Equal(t, Paths, ps)
	ps, err = ParsePaths(" chromium-original, robot-page,robot-page ")
	require.NoError(t, err)
	assert.Equal(t, []Path{RobotToPage, ChromiumToOriginal}, ps, "the table's order, no repeats")
	for _, bad := range []string{"", " , ", "robot", "robot-page,nope"} {
		_, err := ParsePaths(bad)
		assert.ErrorIs(t, err, ErrConfig, "%q", bad)
	}
}

func FuzzParsePaths(f *testing.F) {
	for _, s := range []string{"all", "robot-page,aiortc-page", "", ",,", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePaths(s)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("%q: %v does not wrap ErrConfig", s, err)
			}
			return
		}
		if len(ps) == 0 || len(ps) > len(Paths) {
			t.Fatalf("%q: %v", s, ps)
		}
		seen := map[Path]bool{}
		for _, p := range ps {
			if seen[p] || p.Describe() == string(p) {
				t.Fatalf("%q: repeated or unknown path %q", s, p)
			}
			seen[p] = true
		}
	})
}

func TestSummaryAndTable(t *testing.T) {
	run := func(join float64, lat ...float64) Result {
		return Result{JoinToFirstFrameMs: join, JoinToOfferMs: join / 10, OfferToAnswerMs: join / 5, Frames: 300, Stamped: 300, WindowSeconds: 10, Width: 640, Height: 480, LatencyMs: lat}
	}
	robot := []Result{run(100, 10, 20, 30), run(120, 12, 22, 32), run(110, 11, 21, 31)}
	chrome := []Result{run(300, 30, 40, 50), run(320, 32, 42, 52), run(310, 31, 41, 51)}
	s := Summarize(RobotToPage, robot)
	assert.Equal(t, 3, s.Runs)
	assert.Equal(t, []float64{20, 22, 21}, s.P50)
	assert.Equal(t, []float64{30, 32, 31}, s.P95)
	assert.Equal(t, []float64{100, 120, 110}, s.Join)
	assert.Empty(t, s.CaptureTimeP50, "no captureTime: no figure")
	assert.Equal(t, []float64{30, 30, 30}, s.FPS)

	var out bytes.Buffer
	WriteTable(&out, []Summary{s, Summarize(ChromiumToOriginal, chrome)})
	table := out.String()
	t.Log("\n" + table)
	assert.Contains(t, table, "| our robot (examples/sender) → our page | 3 | 21 (20–22) | 31 (30–32) | 110 / 120 (100–120) | – | 30.0 | 640x480 |")
	assert.Contains(t, table, "robot-page / chromium-original = 0.51 (aim ≤ 0.7)")
	assert.NotContains(t, table, "aiortc-page =", "no ratio for a path that did not run")
	assert.Contains(t, table, "| our robot (examples/sender) → our page | 11 (10–12) | 22 (20–24) | 77 |", "join 110 less 11 to the offer and 22 to the answer")
	assert.Equal(t, 2*(2+2), strings.Count("\n"+table, "\n|"), "two tables: header, rule, two rows")
}
