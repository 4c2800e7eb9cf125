package stamp

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/avlink/avlink/capture"
)

// TestJSReadsStampBand runs stamp.js under Node on only the top rows of a
// frame stamped by Write, as a page takes them from a canvas: the band
// alone reads with the frame's height given, and a band cut too short
// does not.
func TestJSReadsStampBand(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "stamp.js")
	if err := os.WriteFile(js, JS(), 0o600); err != nil {
		t.Fatal(err)
	}
	when := time.UnixMilli(1764000000456)
	const w, h = 640, 480
	f := picture(w, h, 7)
	if err := Write(f, when, 0x1234); err != nil {
		t.Fatal(err)
	}
	degrade(f, 7)
	y, _, _ := capture.I420Planes(f)
	band := 2 * (h / 15)
	rgba := make([]byte, 4*w*band)
	for i := range w * band {
		c := byte(min(255, max(0, (int(y[i])-16)*255/219)))
		rgba[4*i], rgba[4*i+1], rgba[4*i+2], rgba[4*i+3] = c, c, c, 255
	}
	if err := os.WriteFile(filepath.Join(dir, "band"), rgba, 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
const s = require(process.argv[2]);
const fs = require('fs');
const w = 640, h = 480, bh = 2 * Math.floor(h / 15);
const band = new Uint8ClampedArray(fs.readFileSync(process.argv[3] + '/band'));
const img = {data: band, width: w, height: bh};
console.log(JSON.stringify({
  band: s.readStamp(img, h),
  short: s.readStamp({data: band, width: w, height: bh - 1}, h),
  whole: s.readStamp(img),
}));`
	runner := filepath.Join(dir, "run.js")
	if err := os.WriteFile(runner, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, runner, js, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	type res struct {
		TimeMs  int64  `json:"timeMs"`
		Counter uint16 `json:"counter"`
	}
	var got struct{ Band, Short, Whole *res }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r := got.Band; r == nil || r.TimeMs != when.UnixMilli() || r.Counter != 0x1234 {
		t.Errorf("band: stamp.js read %+v, want %d #%d", r, when.UnixMilli(), 0x1234)
	}
	if got.Short != nil {
		t.Errorf("a band one row short read as %+v", got.Short)
	}
	// Without the frame's height the band is taken for a whole frame,
	// whose cells would be 15 times smaller: no stamp.
	if got.Whole != nil {
		t.Errorf("the band read as a whole frame gave %+v", got.Whole)
	}
}
