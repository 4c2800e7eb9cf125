package signalbench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6455 names SHA-1 for the accept key
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"
)

// The paced run times single messages, so what the load generator spends
// per delivery is added to every figure: it shares the server's two
// cores. Its connections therefore speak WebSocket themselves, with one
// poller reading all of them (rawpoll_linux.go): a read system call per
// delivery and no goroutine wake-up, where a coder/websocket client per
// connection spent about 13 µs of CPU per delivery (a goroutine wake, a
// read and a read that found nothing).

// Frame opcodes (RFC 6455 section 5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// maxRawFrame bounds a frame the raw client accepts; the servers' limit
// is 64 KiB.
const maxRawFrame = 1 << 20

var (
	errFrameTooBig   = errors.New("signalbench: frame too big")
	errMaskedFrame   = errors.New("signalbench: server frame is masked")
	errFragmented    = errors.New("signalbench: fragmented frames are not expected")
	errPeerClosed    = errors.New("signalbench: server closed the connection")
	errBadHandshake  = errors.New("signalbench: WebSocket handshake failed")
	errUnknownOpcode = errors.New("signalbench: unknown opcode")
)

// rawConn is a client WebSocket connection with its own framing.
type rawConn struct {
	nc     *net.TCPConn
	onText func([]byte)
	mask   [4]byte

	wmu  sync.Mutex
	wbuf []byte

	in []byte // received bytes not yet parsed; the poller's only
}

// dialRaw opens a WebSocket connection to u (ws://host:port/path) with
// the opening handshake of RFC 6455 section 4.1, and hands every text
// message received later to onText.
func dialRaw(ctx context.Context, u string, onText func([]byte)) (*rawConn, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", pu.Host)
	if err != nil {
		return nil, err
	}
	nc := conn.(*net.TCPConn) //nolint:forcetypeassert // "tcp" gives *net.TCPConn
	c := &rawConn{nc: nc, onText: onText}
	if _, err := rand.Read(c.mask[:]); err != nil {
		nc.Close()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	if err := c.handshake(pu); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *rawConn) handshake(u *url.URL) error {
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	k := base64.StdEncoding.EncodeToString(key[:])
	path := u.RequestURI()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + k +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.nc.Write([]byte(req)); err != nil {
		return err
	}
	br := bufio.NewReader(c.nc)
	status, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("%w: %w", errBadHandshake, err)
	}
	if !bytes.HasPrefix([]byte(status), []byte("HTTP/1.1 101")) {
		return fmt.Errorf("%w: %q", errBadHandshake, status)
	}
	sum := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) //nolint:gosec // RFC 6455
	want := "sec-websocket-accept: " + base64.StdEncoding.EncodeToString(sum[:])
	accepted := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("%w: %w", errBadHandshake, err)
		}
		if line == "\r\n" {
			break
		}
		if bytes.EqualFold(bytes.TrimSpace([]byte(line)), []byte(want)) {
			accepted = true
		}
	}
	if !accepted {
		return fmt.Errorf("%w: no matching Sec-WebSocket-Accept", errBadHandshake)
	}
	// Anything the server sent after its headers is the start of the
	// first frames.
	if n := br.Buffered(); n > 0 {
		c.in, _ = br.Peek(n)
		c.in = bytes.Clone(c.in)
	}
	return nil
}

// writeText sends p as one masked text frame.
func (c *rawConn) writeText(p []byte) error { return c.writeFrame(opText, p) }

func (c *rawConn) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = appendClientFrame(c.wbuf[:0], op, p, c.mask)
	_, err := c.nc.Write(c.wbuf)
	return err
}

// appendClientFrame appends a final, masked frame of p to b.
func appendClientFrame(b []byte, op byte, p []byte, mask [4]byte) []byte {
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, mask[:]...)
	start := len(b)
	b = append(b, p...)
	for i := range b[start:] {
		b[start+i] ^= mask[i&3]
	}
	return b
}

// nextFrame parses one server frame from the start of b. n is 0 when b
// does not yet hold a whole frame.
func nextFrame(b []byte) (op byte, payload []byte, n int, err error) {
	if len(b) < 2 {
		return 0, nil, 0, nil
	}
	if b[0]&0x80 == 0 || b[0]&0x0F == 0 {
		return 0, nil, 0, errFragmented
	}
	if b[1]&0x80 != 0 {
		return 0, nil, 0, errMaskedFrame
	}
	op = b[0] & 0x0F
	size, hdr := uint64(b[1]&0x7F), 2
	switch size {
	case 126:
		if len(b) < 4 {
			return 0, nil, 0, nil
		}
		size, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, 0, nil
		}
		size, hdr = binary.BigEndian.Uint64(b[2:]), 10
	}
	if size > maxRawFrame {
		return 0, nil, 0, fmt.Errorf("%w: %d bytes", errFrameTooBig, size)
	}
	end := hdr + int(size)
	if len(b) < end {
		return 0, nil, 0, nil
	}
	return op, b[hdr:end], end, nil
}

// feed parses what the poller read and acts on every whole frame.
func (c *rawConn) feed(data []byte) error {
	c.in = append(c.in, data...)
	off := 0
	defer func() {
		// Keep only the unparsed tail, at the front of the buffer.
		c.in = c.in[:copy(c.in, c.in[off:])]
	}()
	for {
		op, payload, n, err := nextFrame(c.in[off:])
		if err != nil || n == 0 {
			return err
		}
		off += n
		switch op {
		case opText:
			c.onText(payload)
		case opPing:
			if err := c.writeFrame(opPong, payload); err != nil {
				return err
			}
		case opPong:
		case opClose:
			return errPeerClosed
		default:
			return fmt.Errorf("%w: %#x", errUnknownOpcode, op)
		}
	}
}

// Close closes the connection without a closing handshake.
func (c *rawConn) Close() error { return c.nc.Close() }
