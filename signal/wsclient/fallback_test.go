package wsclient

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/internal/natstest"
	"github.com/avlink/avlink/signal"
	"github.com/avlink/avlink/signal/wsserver"
)

// A client on server A, which shares its rooms with server B over NATS,
// comes back on B with its id when A goes away; its peer on B hears it
// join once and never leave, and they reach each other with "to".
func TestClientFailsOverToNextURL(t *testing.T) {
	ns := natstest.Start(t)
	srvA := newRestartable(t, wsserver.Config{NATS: natstest.Connect(t, ns)})
	_, urlB := startServer(t, wsserver.Config{NATS: natstest.Connect(t, ns)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := Dial(ctx, srvA.url(), "r", &DialOptions{
		Logger: quietLogger(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		FallbackURLs: []string{urlB},
	})
	require.NoError(t, err)
	defer c.Close()
	recvUntil(t, ctx, c, signal.TypeJoined)
	id := c.ID()

	// x, on A too, does not come back: B announcing it as left tells
	// that B has taken A for dead.
	x, _, err := websocket.Dial(ctx, srvA.url(), nil)
	require.NoError(t, err)
	defer x.CloseNow()
	require.NoError(t, x.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"r"}`)))
	_, data, err := x.Read(ctx)
	require.NoError(t, err)
	joined, err := signal.ParseMessage(data)
	require.NoError(t, err)
	require.Equal(t, signal.TypeJoined, joined.Type)
	idx := joined.ID

	p, err := Dial(ctx, urlB, "r", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer p.Close()
	assert.ElementsMatch(t, []string{id, idx}, recvUntil(t, ctx, p, signal.TypeJoined).Peers)

	srvA.stop()
	recvUntil(t, ctx, c, signal.TypeReconnected)
	m := recvUntil(t, ctx, c, signal.TypeJoined)
	assert.Equal(t, id, m.ID, "the client resumed its id on B")
	assert.Contains(t, m.Peers, p.ID())

	// What p hears until x's leave, and then c's offer.
	var joins, leaves []string
	require.NoError(t, c.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: "from-b", To: p.ID()}))
	for {
		m, err := p.Recv(ctx)
		require.NoError(t, err, "joins %v, leaves %v", joins, leaves)
		switch m.Type {
		case signal.TypePeerJoined:
			joins = append(joins, m.Peer)
		case signal.TypePeerLeft:
			leaves = append(leaves, m.Peer)
			if m.Peer == idx {
				// Sent after B took A for dead: had c been announced
				// as left with x, it would have been heard by now.
				require.NoError(t, c.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: "after", To: p.ID()}))
			}
		case signal.TypeOffer:
			assert.Equal(t, id, m.Sender)
		}
		if m.Type == signal.TypeOffer && m.SDP == "after" {
			break
		}
	}
	assert.Equal(t, []string{id}, joins, "c joined once, on B")
	assert.Equal(t, []string{idx}, leaves, "only x left")

	require.NoError(t, p.Send(ctx, signal.Message{Type: signal.TypeAnswer, SDP: "to-c", To: id}))
	assert.Equal(t, "to-c", recvUntil(t, ctx, c, signal.TypeAnswer).SDP)
}

// Dial moves on to the fallback URLs when the first server does not
// answer, and names every URL it tried when none does.
func TestDialTriesFallbackURLs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "ws://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	_, up := startServer(t, wsserver.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := Dial(ctx, down, "r", &DialOptions{Logger: quietLogger(), FallbackURLs: []string{up}})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, signal.TypeJoined, recvUntil(t, ctx, c, signal.TypeJoined).Type)

	_, err = Dial(ctx, down, "r", &DialOptions{Logger: quietLogger(), FallbackURLs: []string{down + "/b?token=s3cret"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "signal: dial "+down+":")
	assert.Contains(t, err.Error(), "signal: dial "+down+"/b?token=REDACTED:")
	assert.NotContains(t, err.Error(), "s3cret")

	_, err = Dial(ctx, up, "r", &DialOptions{FallbackURLs: []string{"http://example.com"}})
	require.ErrorIs(t, err, ErrConfig)
	assert.Contains(t, err.Error(), "FallbackURLs[0]")
}
