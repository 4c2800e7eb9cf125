package teleop

import (
	"context"
	"encoding/json"
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

	c, err = Parse([]byte(`{"type":"action","seq":19,"t":51400,"name":"dock","linear":1}`))
	require.NoError(t, err)
	assert.Equal(t, Command{Type: TypeAction, Seq: 19, T: 51400, Name: "dock"}, c)

	data := []byte(`{"type":"custom","seq":20,"t":51500,"data":{"arm":[0.1,0.2]},"name":"x"}`)
	c, err = Parse(data)
	require.NoError(t, err)
	assert.Equal(t, Command{Type: TypeCustom, Seq: 20, T: 51500, Data: json.RawMessage(`{"arm":[0.1,0.2]}`)}, c)
	data[50] = 'X'
	assert.Equal(t, `{"arm":[0.1,0.2]}`, string(c.Data), "the command keeps its own copy")
	c, err = Parse([]byte(`{"type":"custom","seq":21,"t":1,"data":null}`))
	require.NoError(t, err)
	assert.Equal(t, "null", string(c.Data))

	c, err = Parse([]byte(`{"type":"action","seq":1,"t":1,"name":"` + strings.Repeat("é", MaxActionName) + `"}`))
	require.NoError(t, err, "64 characters, 128 bytes")
	assert.True(t, c.Type == TypeAction && !c.Moving())

	for _, bad := range []string{
		``, `null`, `[]`, `{"type":"echo","seq":1,"t":2}`, `{"type":"drive","linear":1.5}`,
		`{"type":"drive","angular":-2}`, `{"type":"fly"}`, `{"type":"drive","seq":-1}`,
		`{"type":"drive","linear":"fast"}`, `{"type":"drive","t":1e999}`,
		`{"type":"drive","pad":"` + strings.Repeat("x", MaxMessageBytes) + `"}`,
		`{"type":"action","seq":1}`, `{"type":"action","name":""}`, `{"type":"action","name":7}`,
		`{"type":"action","name":"` + strings.Repeat("a", MaxActionName+1) + `"}`,
		`{"type":"custom","seq":1}`, `{"type":"custom","data":}`, `{"type":"sync-reply","id":1}`,
		`{"type":"estop","seq":1}`,
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
	e := EStopChannelConfig()
	assert.Equal(t, rtclink.ChannelConfig{Label: EStopLabel}, e, "reliable and ordered")
	assert.Equal(t, []rtclink.Channel{Label, EStopLabel}, []rtclink.Channel{Channels()[0].Label, Channels()[1].Label})
	a, b := ChannelConfig(), ChannelConfig()
	assert.Equal(t, Label, a.Label)
	assert.True(t, a.Unordered)
	require.NotNil(t, a.MaxRetransmits)
	assert.Zero(t, *a.MaxRetransmits)
	assert.NotSame(t, a.MaxRetransmits, b.MaxRetransmits, "each config has its own retransmit count")
}

// A program wired as before the safety layer (OnData and Attach only,
// no channel or state events) still works with a page that answers the
// clock sync: its commands run once the clock is measured, and are
// echoed with the page's t.
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

	p := &testPage{off: -3600e3, msgs: make(chan wireMsg, 256)}
	ready := make(chan struct{})
	viewer, err := rtclink.New(rtclink.Config{
		Signaler:        rtctest.Dial(t, rtctest.WS(base), "r"),
		OnData:          func(ch rtclink.Channel, data []byte) { <-ready; p.onData(ch, data) },
		IncludeLoopback: true,
		Logger:          rtctest.Logger(),
	})
	require.NoError(t, err)
	p.s = viewer
	close(ready)
	defer viewer.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, viewer.WaitChannel(ctx, Label))
	// The first command finds no clock estimate; the channel may drop
	// any: send until both kinds are echoed.
	echoed := map[string]bool{}
	sent := map[uint64]string{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for len(echoed) < 2 {
		select {
		case m := <-p.msgs:
			if m.Type == TypeEcho {
				require.Contains(t, sent, m.Seq)
				echoed[sent[m.Seq]] = true
			}
		case <-tick.C:
			typ, extra := TypeDrive, drive
			if len(sent)%2 == 1 {
				typ, extra = TypeStop, ""
			}
			sent[p.send(typ, 0, extra)] = typ
		case <-ctx.Done():
			t.Fatalf("no echoes back after %d commands", len(sent))
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
	require.NoError(t, robotSide.Close())
}
