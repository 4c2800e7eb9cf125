package teleop

import (
	"io"
	"log/slog"
	"math"
	"testing"
	"unicode/utf8"
)

// Parse never panics, and what it accepts is within its limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"type":"drive","seq":17,"t":51234.5,"linear":0.5,"angular":-0.5}`,
		`{"type":"stop","seq":18,"t":51301.2}`,
		`{"type":"action","seq":19,"t":51302,"name":"dock"}`,
		`{"type":"custom","seq":20,"t":51303,"data":{"a":[1,"x",null]}}`,
		`{"type":"custom","seq":21,"t":51304,"data":null}`,
		`{"type":"sync-reply","id":1,"t0":5,"t1":6,"t2":7}`,
		`{"type":"estop","seq":1,"t":2}`,
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
		if len(data) > MaxMessageBytes {
			t.Fatalf("accepted %d bytes", len(data))
		}
		if math.Abs(c.Linear) > 1 || math.Abs(c.Angular) > 1 || math.IsNaN(c.T) || math.IsInf(c.T, 0) {
			t.Fatalf("accepted %+v", c)
		}
		switch c.Type {
		case TypeDrive:
		case TypeStop:
			if c.Moving() || c.Name != "" || c.Data != nil {
				t.Fatalf("a stop with more: %+v", c)
			}
		case TypeAction:
			if n := utf8.RuneCountInString(c.Name); n < 1 || n > MaxActionName || c.Moving() {
				t.Fatalf("accepted action %+v", c)
			}
		case TypeCustom:
			if len(c.Data) == 0 || c.Moving() {
				t.Fatalf("accepted custom %+v", c)
			}
		default:
			t.Fatalf("accepted type %q", c.Type)
		}
	})
}

// A Robot takes any message on either channel without a panic, and a
// message that is not a valid estop never latches it.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"type":"drive","seq":1,"t":1,"linear":0.5}`,
		`{"type":"sync-reply","id":1,"t0":1,"t1":2,"t2":3}`,
		`{"type":"release","seq":2,"t":1}`,
		`{"type":"estop","seq":1,"t":1}`,
		`{"type":"estop","seq":-1}`, `nonsense`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, data []byte, estop bool) {
		r, err := New(Config{Logger: log, Clock: newTickClock()})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.Attach(&recorder{})
		r.HandleChannel(Label, true)
		ch := Label
		if estop {
			ch = EStopLabel
		}
		r.Handle(ch, data)
		if _, err := parseEStop(data); r.Stats().Latched && (!estop || err != nil) {
			t.Fatalf("latched by %q", data)
		}
	})
}
