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

// TestJSReadsGoStamp runs stamp.js under Node on frames written by Write,
// both as a bare luma plane and as the RGBA a canvas would give.
func TestJSReadsGoStamp(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "stamp.js")
	if err := os.WriteFile(js, JS(), 0o600); err != nil {
		t.Fatal(err)
	}
	when := time.UnixMilli(1764000000123)
	const w, h = 640, 480
	f := picture(w, h, 5)
	if err := Write(f, when, 0xBEEF); err != nil {
		t.Fatal(err)
	}
	degrade(f, 5)
	y, _, _ := capture.I420Planes(f)
	rgba := make([]byte, 4*w*h)
	for i, v := range y {
		c := byte(min(255, max(0, (int(v)-16)*255/219)))
		rgba[4*i], rgba[4*i+1], rgba[4*i+2], rgba[4*i+3] = c, c, c, 255
	}
	grey := make([]byte, w*h)
	for i := range grey {
		grey[i] = 128
	}
	for name, b := range map[string][]byte{"luma": y, "rgba": rgba, "grey": grey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := `
const s = require(process.argv[2]);
const fs = require('fs');
const dir = process.argv[3], w = 640, h = 480;
const luma = new Uint8Array(fs.readFileSync(dir + '/luma'));
const rgba = new Uint8ClampedArray(fs.readFileSync(dir + '/rgba'));
const grey = new Uint8Array(fs.readFileSync(dir + '/grey'));
console.log(JSON.stringify({
  check: s.crc16(Buffer.from('123456789'), 9),
  luma: s.readStampLuma(luma, w, w, h),
  rgba: s.readStamp({data: rgba, width: w, height: h}),
  grey: s.readStampLuma(grey, w, w, h),
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
	var got struct {
		Check int
		Luma  *res
		Rgba  *res
		Grey  *res
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Check != 0x29B1 {
		t.Errorf("stamp.js CRC check value %#x", got.Check)
	}
	for name, r := range map[string]*res{"luma": got.Luma, "rgba": got.Rgba} {
		if r == nil || r.TimeMs != when.UnixMilli() || r.Counter != 0xBEEF {
			t.Errorf("%s: stamp.js read %+v, want %d #%d", name, r, when.UnixMilli(), 0xBEEF)
		}
	}
	if got.Grey != nil {
		t.Errorf("stamp.js read %+v from a grey frame", got.Grey)
	}
}
