package wsserver

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What RFC 6455 asks of a server, case by case, in the manner of the
// Autobahn test suite's server cases that apply to a server that is not
// an echo server: an answer to a join stands in for the echo.

// frameClient speaks raw frames to the server.
type frameClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// serverFrame is one frame the server sent.
type serverFrame struct {
	fin     bool
	op      byte
	payload []byte
}

func dialFrames(t *testing.T, url string) *frameClient {
	t.Helper()
	c, br, _ := dialSilent(t, url)
	return &frameClient{t: t, c: c, br: br}
}

// frame builds a masked client frame whose first byte is b0.
func frame(b0 byte, payload []byte) []byte {
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	f = append(f, mask[:]...)
	for i, b := range payload {
		f = append(f, b^mask[i&3])
	}
	return f
}

func (f *frameClient) send(frames ...[]byte) {
	f.t.Helper()
	for _, b := range frames {
		_, err := f.c.Write(b)
		require.NoError(f.t, err)
	}
}

// next reads one server frame.
func (f *frameClient) next() (serverFrame, error) {
	require.NoError(f.t, f.c.SetReadDeadline(time.Now().Add(5*time.Second)))
	var h [2]byte
	if _, err := io.ReadFull(f.br, h[:]); err != nil {
		return serverFrame{}, err
	}
	if h[1]&0x80 != 0 {
		f.t.Fatalf("the server masked a frame")
	}
	if h[0]&0x70 != 0 {
		f.t.Fatalf("the server set reserved bits: %#x", h[0])
	}
	n := int(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(f.br, l[:]); err != nil {
			return serverFrame{}, err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(f.br, l[:]); err != nil {
			return serverFrame{}, err
		}
		n = int(binary.BigEndian.Uint64(l[:])) //nolint:gosec // a test's frame
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(f.br, p); err != nil {
		return serverFrame{}, err
	}
	return serverFrame{fin: h[0]&0x80 != 0, op: h[0] & 0x0F, payload: p}, nil
}

// expectText reads a text message and checks it contains want.
func (f *frameClient) expectText(want string) {
	f.t.Helper()
	fr, err := f.next()
	require.NoError(f.t, err)
	require.Equal(f.t, byte(opText), fr.op, "payload %q", fr.payload)
	require.True(f.t, fr.fin)
	require.Contains(f.t, string(fr.payload), want)
}

// expectClose reads the server's close frame, checks its status (0: no
// status), and that the server then ends the TCP connection.
func (f *frameClient) expectClose(code int) {
	f.t.Helper()
	fr, err := f.next()
	require.NoError(f.t, err, "no close frame")
	require.Equal(f.t, byte(opClose), fr.op, "payload %q", fr.payload)
	got := 0
	if len(fr.payload) >= 2 {
		got = int(binary.BigEndian.Uint16(fr.payload))
	}
	assert.Equal(f.t, code, got, "close status (reason %q)", fr.payload[min(2, len(fr.payload)):])
	// Answer as a client does; the server then closes the socket.
	f.send(frame(0x80|opClose, fr.payload[:min(2, len(fr.payload))]))
	_, err = f.next()
	assert.ErrorIs(f.t, err, io.EOF, "the server did not end the TCP connection")
}

// join is a join message padded with spaces to n bytes.
func join(n int) []byte {
	m := `{"type":"join","room":"r"}`
	return []byte(m + strings.Repeat(" ", n-len(m)))
}

func conformanceServer(t *testing.T) string {
	_, url := startServer(t, Config{DisablePings: true, MaxMessageBytes: 70_000})
	return url
}

func TestConformanceFraming(t *testing.T) {
	url := conformanceServer(t)
	// Every length form, at its edges (Autobahn 1.1, 1.2).
	for _, n := range []int{26, 125, 126, 127, 65535, 65536, 70_000} {
		f := dialFrames(t, url)
		f.send(frame(0x80|opText, join(n)))
		f.expectText(`"joined"`)
	}
	// A message written a byte at a time (1.1.8).
	f := dialFrames(t, url)
	for _, b := range frame(0x80|opText, join(40)) {
		f.send([]byte{b})
	}
	f.expectText(`"joined"`)
}

func TestConformancePingPong(t *testing.T) {
	url := conformanceServer(t)
	for _, n := range []int{0, 10, 125} { // 2.1-2.4
		f := dialFrames(t, url)
		p := []byte(strings.Repeat("p", n))
		f.send(frame(0x80|opPing, p))
		fr, err := f.next()
		require.NoError(t, err)
		assert.Equal(t, byte(opPong), fr.op)
		assert.Equal(t, p, fr.payload, "the pong carries the ping's payload")
	}
	// Binary payload, and an unsolicited pong, which is ignored (2.4, 2.6).
	f := dialFrames(t, url)
	f.send(frame(0x80|opPong, []byte("unasked")), frame(0x80|opPing, []byte{0, 0xFF, 0xFE}))
	fr, err := f.next()
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0xFF, 0xFE}, fr.payload)
	f.send(frame(0x80|opText, join(30)))
	f.expectText(`"joined"`)
	// Ten pings in a row, ten pongs in order (2.10).
	for i := range 10 {
		f.send(frame(0x80|opPing, []byte{byte(i)}))
	}
	for i := range 10 {
		fr, err := f.next()
		require.NoError(t, err)
		require.Equal(t, []byte{byte(i)}, fr.payload)
	}
}

func TestConformanceProtocolErrors(t *testing.T) {
	url := conformanceServer(t)
	cases := map[string][][]byte{
		"ping over 125 bytes (2.5)":          {frame(0x80|opPing, make([]byte, 126))},
		"fragmented ping (5.1)":              {frame(opPing, []byte("a"))},
		"fragmented close":                   {frame(opClose, nil)},
		"RSV1 on text (3.1)":                 {frame(0x80|0x40|opText, join(30))},
		"RSV2 on ping (3.5)":                 {frame(0x80|0x20|opPing, nil)},
		"RSV3 on binary (3.4)":               {frame(0x80|0x10|opBinary, []byte{1})},
		"all RSV bits on close (3.7)":        {frame(0x80|0x70|opClose, nil)},
		"continuation with nothing (5.9)":    {frame(0x80|opContinuation, []byte("x"))},
		"text inside a fragmented message":   {frame(opText, []byte(`{"type"`)), frame(0x80|opText, join(30))},
		"close with a 1-byte payload (7.3)":  {frame(0x80|opClose, []byte{3})},
		"unmasked client frame":              {{0x80 | opText, 2, '{', '}'}},
		"64-bit length with the top bit set": {{0x80 | opText, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}},
	}
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} { // 4.1, 4.2
		cases["reserved opcode "+string("0123456789ABCDEF"[op])] = [][]byte{frame(0x80|op, nil)}
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} { // 7.9
		var p [2]byte
		binary.BigEndian.PutUint16(p[:], uint16(code)) //nolint:gosec // test codes fit
		cases["close status "+strconv.Itoa(code)] = [][]byte{frame(0x80|opClose, p[:])}
	}
	expectEachClosed(t, url, cases, statusProtocolError)
}

// expectEachClosed sends each case's frames on a connection of its own
// and checks that the server closes it with code.
func expectEachClosed(t *testing.T, url string, cases map[string][][]byte, code int) {
	for name, frames := range cases {
		t.Run(name, func(t *testing.T) {
			f := dialFrames(t, url)
			f.send(frames...)
			f.expectClose(code)
		})
	}
}

func TestConformanceFragments(t *testing.T) {
	url := conformanceServer(t)
	m := join(60)
	// Three fragments (5.6), and with pings between them (5.7, 5.8): the
	// pongs come at once, the message when whole.
	f := dialFrames(t, url)
	f.send(frame(opText, m[:10]), frame(opContinuation, m[10:30]), frame(0x80|opContinuation, m[30:]))
	f.expectText(`"joined"`)
	f = dialFrames(t, url)
	f.send(frame(opText, m[:10]), frame(0x80|opPing, []byte("mid")), frame(opContinuation, m[10:30]),
		frame(0x80|opPing, []byte("mid2")), frame(0x80|opContinuation, m[30:]))
	for _, want := range []string{"mid", "mid2"} {
		fr, err := f.next()
		require.NoError(t, err)
		require.Equal(t, byte(opPong), fr.op)
		require.Equal(t, want, string(fr.payload))
	}
	f.expectText(`"joined"`)
	// Empty fragments (5.18-5.20 in spirit).
	f = dialFrames(t, url)
	f.send(frame(opText, nil), frame(opContinuation, m), frame(0x80|opContinuation, nil))
	f.expectText(`"joined"`)
}

func TestConformanceUTF8(t *testing.T) {
	url := conformanceServer(t)
	// A character split between fragments is valid (6.2.3).
	msg := []byte(`{"type":"join","room":"ü"}`)
	i := strings.Index(string(msg), "ü") + 1
	f := dialFrames(t, url)
	f.send(frame(opText, msg[:i]), frame(0x80|opContinuation, msg[i:]))
	f.expectText(`"joined"`)
	expectEachClosed(t, url, map[string][][]byte{
		"invalid bytes (6.3)":          {frame(0x80|opText, []byte("{\"type\":\"join\",\"room\":\"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\"}"))},
		"truncated character at end":   {frame(opText, []byte(`{"a":"`)), frame(0x80|opContinuation, []byte{0xC3})},
		"overlong encoding (6.5)":      {frame(0x80|opText, []byte{0xC0, 0xAF})},
		"invalid close reason (7.5.1)": {frame(0x80|opClose, []byte{0x03, 0xE8, 0xFF, 0xFE})},
	}, statusInvalidData)
}

func TestConformanceClose(t *testing.T) {
	url := conformanceServer(t)
	// No status: the echo has none (7.1.1 / 7.3.1).
	f := dialFrames(t, url)
	f.send(frame(0x80|opClose, nil))
	f.expectClose(0)
	// Status and reason: the status is echoed (7.3.3-7.3.6).
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		f := dialFrames(t, url)
		var p [2]byte
		binary.BigEndian.PutUint16(p[:], uint16(code)) //nolint:gosec // test codes fit
		f.send(frame(0x80|opClose, append(p[:], "bye"...)))
		f.expectClose(code)
	}
	// Nothing after a close frame is read (7.1.2-7.1.4): no answer to a
	// join sent after it.
	f = dialFrames(t, url)
	f.send(frame(0x80|opClose, []byte{0x03, 0xE8}), frame(0x80|opText, join(30)), frame(0x80|opPing, nil))
	f.expectClose(1000)
}

func TestConformanceMessageTooBig(t *testing.T) {
	url := conformanceServer(t)
	// In one frame, and in fragments each under the limit (9.x).
	f := dialFrames(t, url)
	f.send(frame(0x80|opText, join(70_001)))
	f.expectClose(statusMessageTooBig)
	f = dialFrames(t, url)
	m := join(80_000)
	f.send(frame(opText, m[:40_000]), frame(0x80|opContinuation, m[40_000:]))
	f.expectClose(statusMessageTooBig)
}

// A binary message is refused with an error message; the connection
// stays open.
func TestConformanceBinaryRefused(t *testing.T) {
	f := dialFrames(t, conformanceServer(t))
	f.send(frame(0x80|opBinary, []byte{1, 2, 3}))
	f.expectText(`"error"`)
	f.send(frame(0x80|opText, join(30)))
	f.expectText(`"joined"`)
}

func TestConformanceHandshake(t *testing.T) {
	url := conformanceServer(t)
	addr := strings.TrimPrefix(url, "ws://")
	for name, c := range map[string]struct {
		req  string
		code int
	}{
		"version 8":   {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", http.StatusUpgradeRequired},
		"no key":      {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest},
		"short key":   {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest},
		"no upgrade":  {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest},
		"POST":        {"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", http.StatusMethodNotAllowed},
		"token lists": {"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusSwitchingProtocols},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			_, err = io.WriteString(conn, c.req)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			assert.Equal(t, c.code, resp.StatusCode)
			if c.code == http.StatusSwitchingProtocols {
				// RFC 6455 section 1.3's example key and answer.
				assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", resp.Header.Get("Sec-WebSocket-Accept"))
				assert.Empty(t, resp.Header.Get("Sec-WebSocket-Extensions"), "no extension is agreed")
			}
		})
	}
}
