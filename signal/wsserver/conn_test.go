package wsserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
)

// A client's pings are answered and leave the connection serving: the
// server hands back from the library's reader after a control frame and
// must lose nothing doing so.
func TestClientPingsBetweenMessages(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.join("p")
	b.join("p")
	a.readType(signal.TypePeerJoined)

	// a reads in the background, as coder/websocket's Ping needs.
	got := make(chan map[string]any, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := a.conn.Read(ctx)
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(data, &m) == nil && m["type"] == signal.TypeAnswer {
				got <- m
			}
		}
	}()
	for i := range 5 {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		require.NoError(t, a.conn.Ping(pctx), "ping %d", i)
		pcancel()
		a.send(`{"type":"offer","sdp":"o` + string(rune('0'+i)) + `"}`)
		assert.Equal(t, "o"+string(rune('0'+i)), b.readType(signal.TypeOffer)["sdp"])
		b.send(`{"type":"answer","sdp":"a` + string(rune('0'+i)) + `"}`)
		select {
		case m := <-got:
			assert.Equal(t, "a"+string(rune('0'+i)), m["sdp"])
		case <-time.After(5 * time.Second):
			t.Fatal("no answer after a ping")
		}
	}
	a.conn.CloseNow()
	<-done
}

// backgroundReader reads c until the test ends, as a client that
// answers pings must, and passes on the messages of type typ.
func backgroundReader(t *testing.T, c *rawClient, typ string) <-chan map[string]any {
	got := make(chan map[string]any, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.conn.Read(ctx)
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(data, &m) == nil && m["type"] == typ {
				got <- m
			}
		}
	}()
	t.Cleanup(func() { cancel(); c.conn.CloseNow(); <-done })
	return got
}

// Bytes a client sends in the same packet as the end of its handshake, or
// right after, are not lost between net/http's reader and the server's.
func TestMessageRightAfterHandshake(t *testing.T) {
	_, url := startServer(t, Config{})
	b := dialRaw(t, url)
	b.join("fast")
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := websocket.Dial(ctx, url, nil)
		require.NoError(t, err)
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"fast"}`)))
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"offer","sdp":"n`+string(rune('a'+i))+`"}`)))
		cancel()
		assert.Equal(t, "n"+string(rune('a'+i)), b.readType(signal.TypeOffer)["sdp"])
		c.CloseNow()
	}
}

// Messages whose forwarded length falls on each side of the frame
// header's 7-bit, 16-bit and 64-bit length forms arrive whole.
func TestFrameLengthForms(t *testing.T) {
	_, url := startServer(t, Config{MaxMessageBytes: 1 << 20, NoRateLimit: true})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.join("f")
	b.join("f")
	a.readType(signal.TypePeerJoined)

	var sizes []int
	for n := 60; n < 140; n++ {
		sizes = append(sizes, n)
	}
	for n := 65460; n < 65560; n += 3 {
		sizes = append(sizes, n)
	}
	sizes = append(sizes, 300_000)
	for _, n := range sizes {
		pad := strings.Repeat("x", n)
		a.send(`{"type":"candidate","pad":"` + pad + `"}`)
		m := b.read()
		require.Equal(t, pad, m["pad"], "message of %d padding bytes", n)
	}
}

func TestAppendTextHeader(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xFF, 0xFF}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		assert.Equal(t, c.want, appendTextHeader(nil, c.n), "length %d", c.n)
	}
}
