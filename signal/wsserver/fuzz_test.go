package wsserver

import (
	"encoding/json"
	"testing"

	"github.com/avlink/avlink/signal"
)

// FuzzRouting checks that whatever a client sends, the server either
// refuses it or forwards valid JSON whose sender is the connection's id.
func FuzzRouting(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","room":"realsense"}`,
		`{"type":"offer","sdp":"v=0\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"offer","sender":"x","to":"y"}`,
		`{}`, ` { } `, `{"a":1} `, `[]`, `null`, `{"type":`, `{"room":null}`, "{\"type\":\"x\"}\n\t",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := parseEnvelope(data)
		if err != nil {
			return
		}
		out := withSender(data, "abc123", env.hasSender)
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("forwarded invalid JSON %q from %q: %v", out, data, err)
		}
		if m["sender"] != "abc123" {
			t.Fatalf("sender %v in %q", m["sender"], out)
		}
		if _, err := signal.ParseMessage(data); err != nil && json.Valid(data) {
			// ParseMessage is stricter only about field types.
			var probe map[string]any
			if json.Unmarshal(data, &probe) != nil {
				t.Fatalf("ParseMessage and parseEnvelope disagree on %q", data)
			}
		}
	})
}
