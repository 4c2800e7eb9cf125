package wsserver

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/avlink/avlink/signal"
)

// envelope is the part of a message the server routes on. Everything else
// is forwarded as it came.
type envelope struct {
	Type      string          `json:"type"`
	Room      *string         `json:"room"`
	To        string          `json:"to"`
	ID        string          `json:"id"`
	Sender    json.RawMessage `json:"sender"`
	hasSender bool
}

// parseEnvelope checks that data is one JSON object and reads its routing
// fields.
func parseEnvelope(data []byte) (envelope, error) {
	var e envelope
	d := bytes.TrimSpace(data)
	if len(d) == 0 || d[0] != '{' {
		return e, fmt.Errorf("%w: not a JSON object", signal.ErrBadMessage)
	}
	if err := json.Unmarshal(d, &e); err != nil {
		return envelope{}, fmt.Errorf("%w: %v", signal.ErrBadMessage, err)
	}
	e.hasSender = e.Sender != nil
	return e, nil
}

// withSender returns the object data with "sender" set to id, as the
// original deployment's Node.js server did with {...message, sender: id}.
// data must be a valid JSON object. The common case appends one field
// without re-encoding.
func withSender(data []byte, id string, hasSender bool) []byte {
	d := bytes.TrimSpace(data)
	if hasSender {
		// A client may not speak for another: replace its field.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(d, &m); err == nil {
			m["sender"], _ = json.Marshal(id)
			if out, err := json.Marshal(m); err == nil {
				return out
			}
		}
	}
	body := bytes.TrimSpace(d[1 : len(d)-1])
	out := make([]byte, 0, len(d)+len(id)+12)
	out = append(out, d[:len(d)-1]...)
	out = bytes.TrimRight(out, " \t\r\n")
	if len(body) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"sender":"`...)
	out = append(out, id...)
	out = append(out, `"}`...)
	return out
}

// encode marshals a server-made message.
func encode(m signal.Message) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// Message has no field json cannot encode.
		panic(err)
	}
	return b
}
