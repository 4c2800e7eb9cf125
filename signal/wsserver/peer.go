package wsserver

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// peer is one WebSocket connection on the server. A reader goroutine
// exists only while its socket has something to read (on Linux; elsewhere
// it waits in Go's network poller) and a writer goroutine only while
// there is something to send, so an idle connection costs no goroutine.
type peer struct {
	id   string // guarded by srv.mu once the peer is added: a join may resume an old id
	conn string // the id given at connect, for log lines from other goroutines
	srv  *Server
	room *room // guarded by srv.mu
	// heard is set, under srv.mu, once the default room has had a
	// message from this peer: only then can its members know the peer,
	// so only then is its leaving announced there.
	heard bool
	// joinedAt is when it joined its room, for the order of members
	// across servers. Guarded by srv.mu.
	joinedAt int64

	// The reader's own state.
	lim    *rate.Limiter // nil: no limit
	remote string
	ping   *keepalive // nil: no pings

	// bc is set once by attach, under mu; the reader and the writer use
	// it without the lock after that.
	bc *batchConn

	// pmu guards parked and killed, so that the reader parking the
	// connection in the poller and a goroutine ending it agree on who
	// reads it next.
	pmu    sync.Mutex
	parked *poller // the poller it waits in: no goroutine reads it
	killed bool    // being ended: not to be parked again

	mu        sync.Mutex
	attached  bool
	queue     [][]byte
	queued    int // bytes in queue
	writing   bool
	closed    bool
	progress  time.Time // last time the writer got bytes out, or the queue was empty
	dropped   int
	lastRateE time.Time
}

// enqueue adds msg to the outgoing queue. A full queue drops the message
// for this peer only; a queue that stays full past WriteTimeout means the
// peer stopped reading and it is disconnected.
func (p *peer) enqueue(msg []byte) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if p.queued+len(msg) > p.srv.cfg.queueBytes() && len(p.queue) > 0 {
		stuck := p.attached && time.Since(p.progress) > p.srv.cfg.writeTimeout()
		p.dropped++
		p.mu.Unlock()
		p.srv.metrics.drops.Inc()
		if stuck {
			p.srv.log.Warn("signal: peer stopped reading, disconnecting", "conn", p.conn, "timeout", p.srv.cfg.writeTimeout())
			p.srv.metrics.slowDisconnects.Inc()
			p.srv.kill(p)
		}
		return
	}
	if len(p.queue) == 0 {
		p.progress = time.Now()
	}
	p.queue = append(p.queue, msg)
	p.queued += len(msg)
	start := !p.writing && p.attached
	p.writing = p.writing || start
	p.mu.Unlock()
	if start {
		p.startWriter()
	}
}

// writeLoop sends everything queued, one flush per batch, and exits when
// the queue is empty.
func (p *peer) writeLoop() {
	defer p.srv.wg.Done()
	var batch [][]byte
	for {
		p.mu.Lock()
		if len(p.queue) == 0 || p.closed {
			p.writing = false
			p.queue = nil
			p.queued = 0
			p.mu.Unlock()
			return
		}
		batch, p.queue = p.queue, batch[:0]
		p.queued = 0
		p.mu.Unlock()

		// No per-write deadline: a stuck reader is caught by enqueue and
		// the keepalive instead.
		err := p.bc.writeText(batch)
		n := len(batch)
		if err != nil {
			n = 0
		}
		p.srv.metrics.messagesOut.Add(float64(n))
		clear(batch)
		if err != nil {
			p.mu.Lock()
			p.closed = true
			p.writing = false
			p.queue = nil
			p.mu.Unlock()
			p.srv.kill(p)
			return
		}
		p.mu.Lock()
		p.progress = time.Now()
		p.mu.Unlock()
	}
}

// attach gives p its connection once the upgrade is done, and starts
// the writer for anything queued before.
func (p *peer) attach(bc *batchConn) {
	p.mu.Lock()
	p.bc, p.attached = bc, true
	start := len(p.queue) > 0 && !p.closed && !p.writing
	p.writing = p.writing || start
	p.mu.Unlock()
	if start {
		p.startWriter()
	}
}

// startWriter runs writeLoop for p, whose writing flag the caller set.
func (p *peer) startWriter() {
	p.srv.wg.Add(1)
	go p.writeLoop()
}

// connection returns the connection, nil before attach.
func (p *peer) connection() *batchConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bc
}

func (p *peer) markClosed() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}
