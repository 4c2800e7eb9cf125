package browserbench_test

import (
	"fmt"
	"os"

	"github.com/avlink/avlink/internal/browserbench"
)

// The command's flow: pick paths, run each (here two made-up runs
// stand in for Bench.Run), summarize and print the table.
func Example() {
	paths, err := browserbench.ParsePaths("robot-page,chromium-original")
	if err != nil {
		fmt.Println(err)
		return
	}
	run := func(join float64, lat ...float64) browserbench.Result {
		return browserbench.Result{LatencyMs: lat, JoinToFirstFrameMs: join, JoinToOfferMs: 10, OfferToAnswerMs: 20,
			Frames: 290, WindowSeconds: 10, Width: 640, Height: 480}
	}
	runs := map[browserbench.Path][]browserbench.Result{
		browserbench.RobotToPage:        {run(120, 14, 15, 16, 20), run(130, 13, 14, 15, 18)},
		browserbench.ChromiumToOriginal: {run(300, 30, 32, 34, 40), run(310, 31, 33, 35, 39)},
	}
	var sums []browserbench.Summary
	for _, p := range paths {
		sums = append(sums, browserbench.Summarize(p, runs[p]))
	}
	browserbench.WriteTable(os.Stdout, sums)
	// Output:
	// | path | runs | capture-to-screen p50, ms | capture-to-screen p95, ms | join → first frame p50 / p95 over runs, ms | p50 from captureTime, ms | shown fps | size |
	// |---|---:|---:|---:|---:|---:|---:|---|
	// | our robot (examples/sender) → our page | 2 | 14 (14–15) | 18 (18–20) | 120 / 130 (120–130) | – | 29.0 | 640x480 |
	// | Chromium sender (fake camera) → original page | 2 | 32 (32–33) | 39 (39–40) | 300 / 310 (300–310) | – | 29.0 | 640x480 |
	//
	// Each cell: the median over the runs (the lowest–highest run). Capture-to-screen: per run, the p50 and p95 over every stamped picture shown in the window, stamp to the time requestVideoFrameCallback says it is shown. Join → first frame: the sender's join as the page hears of it to the first picture shown. captureTime: requestVideoFrameCallback's own capture time, which Chromium gives only for senders that tell it theirs (here the Chromium sender: its fake camera's capture, before the stamp is drawn).
	//
	// | path | join → offer at the page, ms | offer → answer sent, ms | answer → first picture shown, ms |
	// |---|---:|---:|---:|
	// | our robot (examples/sender) → our page | 10 (10–10) | 20 (20–20) | 90 |
	// | Chromium sender (fake camera) → original page | 10 (10–10) | 20 (20–20) | 270 |
	//
	// Where join → first frame goes: medians over the runs (lowest–highest); the last column is the median join → first frame less the other two medians.
	//
	// Capture-to-screen p50, our robot into our page against a Chromium sender: robot-page / chromium-original = 0.44 (aim ≤ 0.7)
}
