package teleop

import (
	"math"
	"testing"
)

// Parse never panics, and what it accepts is within its limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"type":"drive","seq":17,"t":51234.5,"linear":0.5,"angular":-0.5}`,
		`{"type":"stop","seq":18,"t":51301.2}`,
		`{"type":"echo","seq":1,"t":2}`,
		`{"type":"drive","linear":1e308}`,
		`{}`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		if c.Type != TypeDrive && c.Type != TypeStop {
			t.Fatalf("accepted type %q", c.Type)
		}
		if math.Abs(c.Linear) > 1 || math.Abs(c.Angular) > 1 || math.IsNaN(c.T) {
			t.Fatalf("accepted %+v", c)
		}
		if c.Type == TypeStop && (c.Linear != 0 || c.Angular != 0) {
			t.Fatalf("a stop with speed: %+v", c)
		}
	})
}
