package wsserver

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// batchConn is a connection that holds no buffer while idle and lets one
// writer put many WebSocket frames on the wire with a single write system
// call (writeText).
//
// Reads go through a pooled buffer that is taken only when the
// socket has data and given back as soon as it is drained; while nothing
// arrives the reader waits in the network poller with no buffer at all.
type batchConn struct {
	net.Conn
	pool *bufPool

	// wmu makes each write whole on the wire and orders the server's
	// messages against the library's control frames.
	wmu       sync.Mutex
	closeSent bool // a close frame went out: nothing may follow it

	// Read state, used by the connection's one reader only.
	raw    syscall.RawConn // nil: read through a held buffer
	fd     int             // the socket, for the poller; -1 when not one
	readFn func(fd uintptr) bool
	rbuf   *[]byte
	roff   int
	rnext  *[]byte // the buffer readFD fills
	rn     int
	rerr   error

	// pong is set when a pong arrives; the keepalive clears it with each
	// ping.
	pong atomic.Bool

	amu         sync.Mutex
	awaiting    bool // the reader is in await
	interrupted bool // interrupt was called
}

func newBatchConn(c net.Conn, pool *bufPool, leftover []byte) *batchConn {
	bc := &batchConn{Conn: c, pool: pool, fd: -1}
	if sc, ok := c.(syscall.Conn); ok && rawIO {
		if raw, err := sc.SyscallConn(); err == nil {
			bc.raw = raw
			bc.readFn = bc.readFD
			_ = raw.Control(func(fd uintptr) { bc.fd = int(fd) }) //nolint:gosec // an fd
		}
	}
	if len(leftover) > 0 {
		b := pool.get(len(leftover))
		*b = append(*b, leftover...)
		bc.rbuf = b
	}
	return bc
}

// readBufBytes is the size of the buffer one read system call fills: a
// burst of candidates is read in a few calls.
const readBufBytes = 8 << 10

// Read reads what is buffered, or waits for the socket when nothing is.
func (c *batchConn) Read(p []byte) (int, error) {
	if c.rbuf == nil {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*c.rbuf)[c.roff:])
	c.roff += n
	if c.roff == len(*c.rbuf) {
		c.pool.put(c.rbuf)
		c.rbuf, c.roff = nil, 0
	}
	return n, nil
}

// idle reports whether a read would have to wait for the socket. Called
// by the reader only.
func (c *batchConn) idle() bool {
	return c.rbuf == nil
}

// await returns once there is something to read, waiting with no buffer
// held and on a shallow stack, so that the goroutine of an idle
// connection keeps a small stack. An error is the socket's: the
// connection is over.
//
// Only the reader reads the connection, so the server closes a
// connection from the reader's goroutine after interrupt.
func (c *batchConn) await() error {
	c.amu.Lock()
	if c.interrupted {
		c.amu.Unlock()
		return errInterrupted
	}
	if c.rbuf != nil {
		c.amu.Unlock()
		return nil
	}
	c.awaiting = true
	c.amu.Unlock()
	err := c.fill()
	c.amu.Lock()
	c.awaiting = false
	if c.interrupted {
		err = errInterrupted
	}
	c.amu.Unlock()
	return err
}

// interrupt makes the reader's await return errInterrupted, at once if
// it is waiting, else when it next calls it.
func (c *batchConn) interrupt() {
	c.amu.Lock()
	defer c.amu.Unlock()
	c.interrupted = true
	if c.awaiting {
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0)) // long past
	}
}

// resume undoes what interrupt did to the socket, so that the reader can
// go on to a close handshake.
func (c *batchConn) resume() {
	_ = c.Conn.SetReadDeadline(time.Time{})
}

// fill reads what the socket has into a pooled buffer, waiting with no
// buffer held when it has nothing.
func (c *batchConn) fill() error {
	if c.raw == nil {
		return c.fillHeld()
	}
	c.rn, c.rerr, c.rnext = 0, nil, nil
	err := c.raw.Read(c.readFn)
	if err != nil || c.rerr != nil || c.rn <= 0 {
		return c.readFailed(err)
	}
	b := c.rnext
	c.rnext = nil
	*b = (*b)[:c.rn]
	c.rbuf, c.roff = b, 0
	return nil
}

// readFailed cleans up after a failed fill and says why it failed.
func (c *batchConn) readFailed(err error) error {
	if c.rnext != nil {
		c.pool.put(c.rnext)
		c.rnext = nil
	}
	if err == nil && c.rerr != nil {
		err = &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: c.rerr}
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

// fillHeld is fill for a connection that is not a socket (TLS, a test
// pipe): it waits holding the buffer.
func (c *batchConn) fillHeld() error {
	b := c.pool.get(readBufBytes)
	n, err := c.Conn.Read((*b)[:cap(*b)])
	if n == 0 {
		c.pool.put(b)
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	*b = (*b)[:n]
	c.rbuf, c.roff = b, 0
	return nil
}

// readFD is fill's read on the raw socket, a method value made once so
// that a read allocates nothing.
func (c *batchConn) readFD(fd uintptr) bool {
	if c.rnext == nil {
		c.rnext = c.pool.get(readBufBytes)
	}
	n, errno := sysRead(fd, (*c.rnext)[:cap(*c.rnext)])
	if errno == syscall.EAGAIN {
		// Nothing yet: give the buffer back before waiting.
		c.pool.put(c.rnext)
		c.rnext = nil
		return false
	}
	c.rn, c.rerr = n, nil
	if errno != 0 {
		c.rn, c.rerr = 0, errno
	}
	return true
}

// writeText sends msgs as text frames with one write system call. Server
// frames are unmasked, so framing is a header in front of each message,
// built here straight into one pooled buffer instead of one library call
// per message.
func (c *batchConn) writeText(msgs [][]byte) error {
	size := 0
	for _, m := range msgs {
		size += len(m) + maxFrameHeader
	}
	b := c.pool.get(size)
	buf := *b
	for _, m := range msgs {
		buf = appendTextHeader(buf, len(m))
		buf = append(buf, m...)
	}
	*b = buf
	c.wmu.Lock()
	var err error
	if c.closeSent {
		err = net.ErrClosed
	} else {
		_, err = c.Conn.Write(buf)
	}
	c.wmu.Unlock()
	c.pool.put(b)
	return err
}

// appendTextHeader appends the header of an unmasked, final text frame
// with an n-byte payload (RFC 6455 section 5.2).
func appendTextHeader(b []byte, n int) []byte {
	const finText = 0x80 | 0x1
	switch {
	case n < 126:
		return append(b, finText, byte(n))
	case n <= 0xFFFF:
		return append(b, finText, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, finText, 127), uint64(n)) //nolint:gosec // n >= 0
	}
}
