package wsserver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
	"unicode/utf8"
)

// streamConn is a net.Conn that reads from a byte stream and keeps what
// is written to it.
type streamConn struct {
	r io.Reader
	w bytes.Buffer
}

func (c *streamConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzReadMessage feeds any byte stream to the server's frame reader: it
// must not panic or loop, every message it returns must be whole, within
// the limit and, for text, valid UTF-8, and a stream it refuses must be
// refused with a close status a server may send.
func FuzzReadMessage(f *testing.F) {
	join := frame(0x80|opText, []byte(`{"type":"join","room":"r"}`))
	f.Add(join)
	f.Add(append(frame(opText, []byte(`{"ty`)), append(frame(0x80|opPing, []byte("p")), frame(0x80|opContinuation, []byte(`pe":"x"}`))...)...))
	f.Add(frame(0x80|opClose, []byte{0x03, 0xE8, 'o', 'k'}))
	f.Add(frame(0x80|opText, []byte{0xC0, 0xAF}))
	f.Add([]byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Add(frame(0x80|opBinary, bytes.Repeat([]byte{7}, 300)))
	const limit = 1024
	f.Fuzz(func(t *testing.T, data []byte) {
		conn := &streamConn{r: bytes.NewReader(data)}
		c := newBatchConn(conn, newBufPool(), nil)
		for range 1000 {
			op, buf, err := c.readMessage(limit)
			var ce *closeError
			var pc *peerClosed
			switch {
			case errors.As(err, &ce):
				if ce.code != statusProtocolError && ce.code != statusInvalidData && ce.code != statusMessageTooBig {
					t.Fatalf("refused with status %d", ce.code)
				}
				return
			case errors.As(err, &pc):
				if pc.code != 0 && !validCloseCode(pc.code) {
					t.Fatalf("accepted a close with status %d", pc.code)
				}
				return
			case err != nil:
				return // the stream ended
			case buf == nil:
				continue // a control frame between messages
			}
			if len(*buf) > limit {
				t.Fatalf("a %d-byte message passed the %d-byte limit", len(*buf), limit)
			}
			if op == opText && !utf8.Valid(*buf) {
				t.Fatalf("invalid UTF-8 passed as text: %q", *buf)
			}
			if op != opText && op != opBinary {
				t.Fatalf("message with opcode %#x", op)
			}
		}
	})
}
