package signalbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverFrame is what a server sends: final, unmasked.
func serverFrame(op byte, p []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(p); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, p...)
}

func TestNextFrameLengthForms(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 200000} {
		p := bytes.Repeat([]byte{'x'}, n)
		f := serverFrame(opText, p)
		for cut := 0; cut < len(f); cut += max(1, len(f)/7) {
			_, _, got, err := nextFrame(f[:cut])
			require.NoError(t, err)
			assert.Zero(t, got, "%d-byte frame cut at %d is not whole", n, cut)
		}
		op, payload, got, err := nextFrame(append(f, 0x81, 0))
		require.NoError(t, err)
		assert.Equal(t, byte(opText), op)
		assert.Equal(t, len(f), got, "%d-byte payload", n)
		assert.Equal(t, p, payload)
	}
}

func TestNextFrameRefusals(t *testing.T) {
	for name, f := range map[string][]byte{
		"masked":       {0x81, 0x80 | 1, 1, 2, 3, 4, 'x'},
		"fragment":     {0x01, 1, 'x'},
		"continuation": {0x80, 1, 'x'},
		"huge":         append([]byte{0x81, 127}, binary.BigEndian.AppendUint64(nil, 1<<40)...),
	} {
		_, _, _, err := nextFrame(f)
		assert.Error(t, err, name)
	}
}

func TestAppendClientFrameIsMasked(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	for _, n := range []int{5, 300, 70000} {
		p := bytes.Repeat([]byte{'a'}, n)
		f := appendClientFrame(nil, opText, p, mask)
		assert.Equal(t, byte(0x81), f[0])
		assert.NotZero(t, f[1]&0x80, "client frames are masked")
		hdr := map[bool]int{true: 2, false: 4}[n < 126]
		if n > 0xFFFF {
			hdr = 10
		}
		assert.Equal(t, mask[:], f[hdr:hdr+4])
		body := f[hdr+4:]
		require.Len(t, body, n)
		for i := range body {
			body[i] ^= mask[i&3]
		}
		assert.Equal(t, p, body)
	}
}

// TestFeedSplitsAndAnswers feeds frames in awkward pieces: every text
// message comes out once, whole, and a close frame ends the connection.
func TestFeedSplitsAndAnswers(t *testing.T) {
	var got []string
	c := &rawConn{onText: func(p []byte) { got = append(got, string(p)) }}
	stream := append(serverFrame(opText, []byte("one")), serverFrame(opPong, nil)...)
	stream = append(stream, serverFrame(opText, bytes.Repeat([]byte{'2'}, 300))...)
	for len(stream) > 0 {
		n := min(7, len(stream))
		require.NoError(t, c.feed(stream[:n]))
		stream = stream[n:]
	}
	assert.Equal(t, []string{"one", strings.Repeat("2", 300)}, got)
	assert.Empty(t, c.in, "nothing left over")
	assert.ErrorIs(t, c.feed(serverFrame(opClose, nil)), errPeerClosed)
}

// TestRawClientsThroughTheSignalServer runs paced clients against the
// real server: they join, hear each other's stamped messages, and answer
// the server's pings, so they stay connected past several ping intervals.
func TestRawClientsThroughTheSignalServer(t *testing.T) {
	srv, err := wsserver.New(wsserver.Config{PingInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }()
	url := "ws://" + hs.Listener.Addr().String() + "/"

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l := newLoad()
	cs, err := dialPaced(ctx, l, url, 3)
	require.NoError(t, err)
	require.Len(t, cs, 3)
	raws := []*rawConn{cs[0].rawConn, cs[1].rawConn, cs[2].rawConn}
	var mu sync.Mutex
	var ended []error
	p, err := startRawPoller(raws, func(_ *rawConn, err error) {
		mu.Lock()
		ended = append(ended, err)
		mu.Unlock()
	})
	require.NoError(t, err)
	defer closeRaw(raws)
	for _, c := range cs {
		require.NoError(t, c.join(ctx, "paced"))
	}
	l.recordFrom.Store(0)
	time.Sleep(350 * time.Millisecond) // several pings, each answered
	msg := candidateMessage(300)
	stamp(msg, l.now())
	require.NoError(t, cs[0].writeText(msg))
	require.Eventually(t, func() bool { return l.delivered.Load() == 2 }, 10*time.Second, 5*time.Millisecond)
	p.stop()
	mu.Lock()
	assert.Empty(t, ended, "no connection ended")
	mu.Unlock()
	assert.Empty(t, cs[0].lat, "a sender does not hear itself")
	for _, c := range cs[1:] {
		require.Len(t, c.lat, 1)
		assert.Positive(t, c.lat[0])
	}
}

func TestDialRawRefusesWhatIsNotWebSocket(t *testing.T) {
	hs := httptest.NewServer(nil) // 404 for everything
	defer hs.Close()
	_, err := dialRaw(context.Background(), "ws://"+hs.Listener.Addr().String()+"/", func([]byte) {})
	assert.ErrorIs(t, err, errBadHandshake)
}

func FuzzNextFrame(f *testing.F) {
	f.Add(serverFrame(opText, []byte("hello")))
	f.Add(serverFrame(opPing, nil))
	f.Add([]byte{0x81, 126, 0})
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		op, payload, n, err := nextFrame(b)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) || len(payload) > n || op > 0xF {
			t.Fatalf("frame of %d bytes with %d-byte payload from %d bytes", n, len(payload), len(b))
		}
	})
}

// The exported process runs the real examples/signal-server and answers a
// WebSocket join.
func TestStartProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds examples/signal-server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := StartProcess(ctx, "../..", KindGo)
	require.NoError(t, err)
	defer p.Close()
	require.Positive(t, p.PID())
	c, err := wsclient.Dial(ctx, p.URL(), "r", nil)
	require.NoError(t, err)
	defer c.Close()
	m, err := c.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "joined", m.Type)
	require.True(t, c.AcknowledgesJoins())
}
