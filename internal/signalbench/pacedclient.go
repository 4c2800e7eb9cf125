package signalbench

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// pacedConn is one client of the paced run.
type pacedConn struct {
	*rawConn
	l      *load
	joined chan struct{}
	// lat is written by the poller's goroutine only, and read after it
	// stopped.
	lat []time.Duration
}

// dialPaced opens n paced connections to url, 32 at a time, and returns
// those that opened.
func dialPaced(ctx context.Context, l *load, url string, n int) ([]*pacedConn, error) {
	return dialAll(ctx, n, 32, func(ctx context.Context) (*pacedConn, error) {
		c := &pacedConn{l: l, joined: make(chan struct{}, 1)}
		rc, err := dialRaw(ctx, url, c.handle)
		if err != nil {
			return nil, err
		}
		c.rawConn = rc
		return c, nil
	})
}

// handle runs on the poller's goroutine for every text message.
func (c *pacedConn) handle(msg []byte) {
	l := c.l
	if ts, ok := l.count(msg); ok {
		if ts > 0 && ts >= l.recordFrom.Load() {
			c.lat = append(c.lat, time.Duration(l.now()-ts))
		}
		return
	}
	passJoined(msg, c.joined)
}

// join sends a join for room and waits for the server's answer.
func (c *pacedConn) join(ctx context.Context, room string) error {
	if err := c.writeText(joinMessage(room)); err != nil {
		return err
	}
	jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case <-c.joined:
		return nil
	case <-jctx.Done():
		return errors.New("signalbench: no answer to a join")
	}
}

// pace sends a stamped message every interval, the first after offset,
// until stop is closed.
func (c *pacedConn) pace(stop <-chan struct{}, template []byte, offset, interval time.Duration) {
	msg := bytes.Clone(template)
	t := time.NewTimer(offset)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		t.Reset(interval)
		stamp(msg, c.l.now())
		if c.writeText(msg) != nil {
			return
		}
	}
}

// closeRaw closes conns without a closing handshake.
func closeRaw(conns []*rawConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}
