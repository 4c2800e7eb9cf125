package teleop

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/rtctest"
	"github.com/avlink/avlink/rtclink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`{"type":"drive","seq":17,"t":51234.5,"linear":0.5,"angular":-0.25}`))
	require.NoError(t, err)
	assert.Equal(t, Command{Type: TypeDrive, Seq: 17, T: 51234.5, Linear: 0.5, Angular: -0.25}, c)

	c, err = Parse([]byte(`{"type":"stop","seq":18,"t":51301.2,"linear":1}`))
	require.NoError(t, err)
	assert.Equal(t, Command{Type: TypeStop, Seq: 18, T: 51301.2}, c, "a stop carries no speed")

	for _, bad := range []string{
		``, `null`, `[]`, `{"type":"echo","seq":1,"t":2}`, `{"type":"drive","linear":1.5}`,
		`{"type":"drive","angular":-2}`, `{"type":"fly"}`, `{"type":"drive","seq":-1}`,
		`{"type":"drive","linear":"fast"}`, `{"type":"drive","t":1e999}`,
		`{"type":"drive","pad":"` + strings.Repeat("x", MaxMessageBytes) + `"}`,
	} {
		_, err := Parse([]byte(bad))
		assert.ErrorIs(t, err, ErrBadCommand, "%q", bad)
	}
}

func TestEcho(t *testing.T) {
	var got map[string]any
	require.NoError(t, json.Unmarshal(Echo(Command{Type: TypeDrive, Seq: 3, T: 1234.567, Linear: 1}), &got))
	assert.Equal(t, map[string]any{"type": "echo", "seq": 3.0, "t": 1234.567}, got, "the echo carries the page's t exactly")
}

func TestChannelConfig(t *testing.T) {
	a, b := ChannelConfig(), ChannelConfig()
	assert.Equal(t, Label, a.Label)
	assert.True(t, a.Unordered)
	require.NotNil(t, a.MaxRetransmits)
	assert.Zero(t, *a.MaxRetransmits)
	assert.NotSame(t, a.MaxRetransmits, b.MaxRetransmits, "each config has its own retransmit count")
}

type sent struct {
	mu   sync.Mutex
	msgs []string
	err  error
}

func (s *sent) SendData(ch rtclink.Channel, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, string(ch)+" "+string(data))
	return s.err
}

func TestHandle(t *testing.T) {
	var logs strings.Builder
	var got []Command
	r, err := New(Config{
		OnCommand: func(c Command) { got = append(got, c) },
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)

	// Before Attach: handed on, not echoed.
	assert.True(t, r.Handle(Label, []byte(`{"type":"drive","seq":1,"t":10,"linear":1}`)))
	out := &sent{}
	r.Attach(out)
	assert.True(t, r.Handle(Label, []byte(`{"type":"stop","seq":2,"t":20}`)))
	assert.True(t, r.Handle(Label, []byte(`{"type":"drive","seq":3,"linear":7}`)), "an invalid command on the channel is still the channel's")
	assert.False(t, r.Handle("other", []byte(`{"type":"stop","seq":4,"t":40}`)), "another channel's message is not taken")

	assert.Equal(t, []Command{{Type: TypeDrive, Seq: 1, T: 10, Linear: 1}, {Type: TypeStop, Seq: 2, T: 20}}, got)
	assert.Equal(t, []string{`teleop {"type":"echo","seq":2,"t":20}`}, out.msgs)
	assert.Contains(t, logs.String(), "message dropped")

	out.err = errors.New("channel closed")
	r.Handle(Label, []byte(`{"type":"stop","seq":5,"t":50}`))
	assert.Len(t, out.msgs, 2, "the echo was attempted")
}

// A viewer's commands cross a real peer connection on the channel the
// robot opens, and the echoes come back carrying the viewer's t.
func TestSessionRoundTrip(t *testing.T) {
	base := rtctest.SignalServer(t, nil)
	var mu sync.Mutex
	var cmds []Command
	robotSide, err := New(Config{
		OnCommand: func(c Command) { mu.Lock(); cmds = append(cmds, c); mu.Unlock() },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	robot, err := rtclink.New(rtclink.Config{
		Signaler:        rtctest.Dial(t, rtctest.WS(base), "r"),
		Role:            rtclink.Offerer,
		Channels:        []rtclink.ChannelConfig{ChannelConfig()},
		OnData:          func(ch rtclink.Channel, data []byte) { robotSide.Handle(ch, data) },
		IncludeLoopback: true,
		Logger:          rtctest.Logger(),
	})
	require.NoError(t, err)
	defer robot.Close()
	robotSide.Attach(robot)

	echoes := make(chan Command, 16)
	viewer, err := rtclink.New(rtclink.Config{
		Signaler: rtctest.Dial(t, rtctest.WS(base), "r"),
		OnData: func(ch rtclink.Channel, data []byte) {
			var e Command
			if ch == Label && json.Unmarshal(data, &e) == nil && e.Type == TypeEcho {
				echoes <- e
			}
		},
		IncludeLoopback: true,
		Logger:          rtctest.Logger(),
	})
	require.NoError(t, err)
	defer viewer.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, viewer.WaitChannel(ctx, Label))
	// The channel drops what it cannot deliver: send until an echo of
	// each kind has come back.
	want := map[uint64]bool{}
	seq := uint64(0)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for got := 0; got < 2; {
		select {
		case e := <-echoes:
			if want[e.Seq] {
				delete(want, e.Seq)
				assert.Equal(t, float64(e.Seq)*1.5, e.T, "the echo carries the t that was sent")
				got++
			}
		case <-tick.C:
			seq++
			typ, lin := TypeDrive, 0.5
			if seq%2 == 0 {
				typ, lin = TypeStop, 0
			}
			msg, _ := json.Marshal(Command{Type: typ, Seq: seq, T: float64(seq) * 1.5, Linear: lin})
			if viewer.SendData(Label, msg) == nil {
				want[seq] = true
			}
		case <-ctx.Done():
			t.Fatalf("no echoes back after %d commands", seq)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, cmds)
	for _, c := range cmds {
		if c.Type == TypeDrive {
			assert.Equal(t, 0.5, c.Linear)
		}
	}
}
