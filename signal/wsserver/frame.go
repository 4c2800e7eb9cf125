package wsserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
	"unicode/utf8"
)

// The server speaks RFC 6455 itself, on the connection it hijacked: it
// reads masked client frames, answers pings, runs the close handshake and
// writes unmasked frames. No extension is negotiated, so every reserved
// bit must be zero.

// Opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close status codes the server sends (RFC 6455 section 7.4.1).
const (
	statusNormal        = 1000
	statusGoingAway     = 1001
	statusProtocolError = 1002
	statusInvalidData   = 1007
	statusMessageTooBig = 1009
)

// maxControlPayload is the largest payload of a control frame.
const maxControlPayload = 125

// maxFrameHeader is the largest frame header: a 64-bit length and a mask.
const maxFrameHeader = 14

// frameHeader is one parsed frame header.
type frameHeader struct {
	fin    bool
	op     byte
	length int64
	mask   [4]byte
}

// closeError is a reason to close the connection with a status code: a
// protocol violation by the client, or a message over the size limit.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("signal: websocket close %d: %s", e.code, e.reason)
}

// peerClosed is how a connection ends when the client started the close
// handshake; code is its status, or 0 when it gave none.
type peerClosed struct{ code int }

func (e *peerClosed) Error() string {
	return fmt.Sprintf("signal: websocket closed by the client with status %d", e.code)
}

func protocolError(format string, args ...any) error {
	return &closeError{code: statusProtocolError, reason: fmt.Sprintf(format, args...)}
}

// headerSize returns the length of the header that starts with the bytes
// b0 and b1: 2, plus 2 or 8 for an extended length, plus 4 for a mask.
func headerSize(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// parseHeader parses a whole client frame header, as long as headerSize
// says, and checks what RFC 6455 requires of it.
func parseHeader(b []byte) (frameHeader, error) {
	var h frameHeader
	if len(b) < 2 || len(b) != headerSize(b[0], b[1]) {
		return h, protocolError("truncated frame header")
	}
	h.fin = b[0]&0x80 != 0
	h.op = b[0] & 0x0F
	if rsv := b[0] & 0x70; rsv != 0 {
		return h, protocolError("reserved bits %#x set, and no extension was negotiated", rsv)
	}
	switch h.op {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
	default:
		return h, protocolError("reserved opcode %#x", h.op)
	}
	if b[1]&0x80 == 0 {
		return h, protocolError("client frame not masked")
	}
	rest := b[2:]
	switch n := b[1] & 0x7F; n {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case 127:
		l := binary.BigEndian.Uint64(rest)
		if l>>63 != 0 {
			return h, protocolError("frame length has its top bit set")
		}
		h.length = int64(l) //nolint:gosec // checked above
		rest = rest[8:]
	default:
		h.length = int64(n)
	}
	copy(h.mask[:], rest)
	if h.op >= opClose && (!h.fin || h.length > maxControlPayload) {
		return h, protocolError("control frame fragmented or over 125 bytes")
	}
	return h, nil
}

// unmask applies the client's mask to p, the payload bytes from offset
// pos of the frame on.
func unmask(p []byte, mask [4]byte, pos int) {
	for i := range p {
		p[i] ^= mask[(pos+i)&3]
	}
}

// validCloseCode reports whether a client may send code in a close frame
// (RFC 6455 section 7.4 and the IANA registry).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// readFull reads exactly len(p) bytes.
func (c *batchConn) readFull(p []byte) error {
	for len(p) > 0 {
		n, err := c.Read(p)
		p = p[n:]
		if err != nil && len(p) > 0 {
			return err
		}
	}
	return nil
}

// readHeader reads and checks the next frame header.
func (c *batchConn) readHeader() (frameHeader, error) {
	var b [maxFrameHeader]byte
	if err := c.readFull(b[:2]); err != nil {
		return frameHeader{}, err
	}
	n := headerSize(b[0], b[1])
	if err := c.readFull(b[2:n]); err != nil {
		return frameHeader{}, err
	}
	return parseHeader(b[:n])
}

// readMessage reads the next data message into a pooled buffer, which the
// caller puts back, and answers the control frames before and among its
// fragments. It returns a nil buffer and no error when a control frame
// came between messages and nothing more is buffered, so that the caller
// can wait with a shallow stack. limit is the largest message accepted.
func (c *batchConn) readMessage(limit int64) (op byte, buf *[]byte, err error) {
	defer func() {
		if err != nil && buf != nil {
			c.pool.put(buf)
			buf = nil
		}
	}()
	for {
		h, err := c.readHeader()
		if err != nil {
			return 0, buf, err
		}
		if h.op >= opClose {
			if err := c.control(h); err != nil {
				return 0, buf, err
			}
			if buf == nil && c.idle() {
				return 0, nil, nil
			}
			continue
		}
		switch {
		case h.op == opContinuation && buf == nil:
			return 0, buf, protocolError("continuation frame with no message to continue")
		case h.op != opContinuation && buf != nil:
			return 0, buf, protocolError("new message before the last one's final fragment")
		case h.op != opContinuation:
			op = h.op
			buf = c.pool.get(int(min(h.length, 512)))
		}
		if int64(len(*buf))+h.length > limit {
			return 0, buf, &closeError{code: statusMessageTooBig, reason: fmt.Sprintf("message over %d bytes", limit)}
		}
		buf = c.grow(buf, int(h.length))
		start := len(*buf)
		*buf = (*buf)[:start+int(h.length)]
		if err := c.readFull((*buf)[start:]); err != nil {
			return 0, buf, err
		}
		unmask((*buf)[start:], h.mask, 0)
		if !h.fin {
			continue
		}
		if op == opText && !utf8.Valid(*buf) {
			return 0, buf, &closeError{code: statusInvalidData, reason: "text message is not valid UTF-8"}
		}
		return op, buf, nil
	}
}

// grow returns buf with room for n more bytes, moving it to a larger
// pooled buffer when needed.
func (c *batchConn) grow(buf *[]byte, n int) *[]byte {
	if len(*buf)+n <= cap(*buf) {
		return buf
	}
	nb := c.pool.get(max(2*cap(*buf), len(*buf)+n))
	*nb = append(*nb, *buf...)
	c.pool.put(buf)
	return nb
}

// control handles one control frame: a ping is answered with a pong, a
// pong is noted for the keepalive, and a close frame is checked and
// echoed, which ends the connection (peerClosed).
func (c *batchConn) control(h frameHeader) error {
	var b [maxControlPayload]byte
	p := b[:h.length]
	if err := c.readFull(p); err != nil {
		return err
	}
	unmask(p, h.mask, 0)
	switch h.op {
	case opPing:
		return c.writeControl(opPong, p)
	case opPong:
		c.pong.Store(true)
		return nil
	}
	code := 0
	switch {
	case len(p) == 1:
		return protocolError("close frame with a 1-byte payload")
	case len(p) >= 2:
		code = int(binary.BigEndian.Uint16(p))
		if !validCloseCode(code) {
			return protocolError("close status %d is not one a client may send", code)
		}
		if !utf8.Valid(p[2:]) {
			return &closeError{code: statusInvalidData, reason: "close reason is not valid UTF-8"}
		}
	}
	// Echo the status (or nothing, when none was given), then the
	// server, which ends the TCP connection first, closes it.
	_ = c.writeControl(opClose, p[:min(len(p), 2)])
	return &peerClosed{code: code}
}

// writeControl sends one control frame. After a close frame nothing more
// is written.
func (c *batchConn) writeControl(op byte, payload []byte) error {
	var b [2 + maxControlPayload]byte
	f := append(b[:0], 0x80|op, byte(len(payload)))
	f = append(f, payload...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	if op == opClose {
		c.closeSent = true
	}
	_, err := c.Conn.Write(f)
	return err
}

// closeWait bounds how long a close handshake the server starts waits
// for the client's close frame.
const closeWait = 2 * time.Second

// end finishes the connection after its reader stopped with err: the
// close handshake err calls for (1001 when the server is shutting down,
// the status of a closeError, the lingering end of one the client
// started), then the socket closed. Only the reader calls it.
func (c *batchConn) end(err error) {
	var ce *closeError
	var pc *peerClosed
	switch {
	case errors.Is(err, errInterrupted):
		c.resume()
		c.closeHandshake(statusGoingAway, "server shutting down", closeWait)
	case errors.As(err, &ce):
		c.closeHandshake(ce.code, ce.reason, closeWait)
	case errors.As(err, &pc):
		c.lingerClose(closeWait) // the close frame is echoed
	}
	_ = c.Conn.Close()
}

// closeHandshake starts the close handshake with code and waits, up to
// wait, for the client's close frame (reading and dropping what comes
// before it), so that the client reads the status before the socket
// goes; then it closes the socket. Only the reader calls it.
func (c *batchConn) closeHandshake(code int, reason string, wait time.Duration) {
	var p [maxControlPayload]byte
	binary.BigEndian.PutUint16(p[:], uint16(code)) //nolint:gosec // a status code
	n := 2 + copy(p[2:], reason)
	if err := c.writeControl(opClose, p[:n]); err != nil {
		_ = c.Conn.Close()
		return
	}
	_ = c.Conn.SetReadDeadline(time.Now().Add(wait))
	c.drainUntilClose()
	c.lingerClose(wait)
}

// lingerClose ends the connection once the close frames are exchanged:
// it sends FIN, reads until the client closes its side too (or wait
// passes), then closes. Closing at once with bytes unread would make the
// kernel reset the connection, and the client could lose the close frame.
func (c *batchConn) lingerClose(wait time.Duration) {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = c.Conn.SetReadDeadline(time.Now().Add(wait))
		var b [512]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				break
			}
		}
	}
	_ = c.Conn.Close()
}

// drainUntilClose reads frames until the client's close frame or an
// error (the deadline), dropping the payloads.
func (c *batchConn) drainUntilClose() {
	var b [512]byte
	for {
		h, err := c.readHeader()
		if err != nil {
			return
		}
		for left := h.length; left > 0; {
			k := int(min(left, int64(len(b))))
			if err := c.readFull(b[:k]); err != nil {
				return
			}
			left -= int64(k)
		}
		if h.op == opClose {
			return
		}
	}
}

// closeStatus is the status a connection ended with, for the log: the
// client's, the server's, or -1 when no close frame was exchanged.
func closeStatus(err error) int {
	var pc *peerClosed
	var ce *closeError
	switch {
	case errors.As(err, &pc):
		return pc.code
	case errors.As(err, &ce):
		return ce.code
	}
	return -1
}
