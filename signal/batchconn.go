package signal

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// batchConn lets one writer put many WebSocket frames on the wire with a
// single write system call. While corked, writes are collected in a buffer
// that uncork sends at once; the buffer is returned to a pool afterwards,
// so an idle connection holds none.
type batchConn struct {
	net.Conn
	pool *sync.Pool

	mu     sync.Mutex
	corked bool
	buf    *[]byte
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.corked {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	c.mu.Unlock()
	return len(p), nil
}

func (c *batchConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes everything collected since cork.
func (c *batchConn) uncork() error {
	c.mu.Lock()
	c.corked = false
	b := c.buf
	c.buf = nil
	c.mu.Unlock()
	if b == nil {
		return nil
	}
	_, err := c.Conn.Write(*b)
	if cap(*b) <= maxPooledBatch {
		*b = (*b)[:0]
		c.pool.Put(b)
	}
	return err
}

// maxPooledBatch keeps a rare huge batch from pinning memory in the pool.
const maxPooledBatch = 256 << 10

// hijackWriter hands the WebSocket library a connection whose writes can
// be batched, and a small write buffer: frames bigger than it go straight
// to batchConn, so nothing large is kept per idle connection.
type hijackWriter struct {
	http.ResponseWriter
	pool *sync.Pool
	conn *batchConn
}

func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: nc, pool: h.pool}
	// Whatever the handshake left buffered has already been flushed by
	// net/http; start the frame writer on the batching connection.
	return h.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(h.conn, 64)), nil
}

func newBatchPool() *sync.Pool {
	return &sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}
}
