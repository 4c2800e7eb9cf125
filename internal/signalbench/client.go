package signalbench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// benchKey marks the load's own messages; the send time follows it as a
// fixed-width decimal string of nanoseconds since load.base (a string,
// because JSON numbers may not have leading zeros).
const benchKey = `"bench":1,"ts":"`

const tsDigits = 19

// candidateMessage returns a candidate message in the browser's JSON
// shape, padded to about size bytes once the server adds "sender".
func candidateMessage(size int) []byte {
	head := `{"type":"candidate","candidate":{"candidate":"candidate:1467250027 1 udp 2122260223 192.0.2.10 46243 typ host generation 0 ufrag 9xG2 network-id 1 network-cost 10`
	tail := `","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"9xG2"},` + benchKey + string(bytes.Repeat([]byte{'0'}, tsDigits)) + `"}`
	const senderField = len(`,"sender":"mi3x8k2a1b2c3d"`)
	pad := size - senderField - len(head) - len(tail)
	var b []byte
	b = append(b, head...)
	for i := 0; i < pad; i++ {
		b = append(b, " abcdefghij"[i%11])
	}
	return append(b, tail...)
}

// stamp writes ts into msg's time field.
func stamp(msg []byte, ts int64) {
	i := bytes.Index(msg, []byte(benchKey))
	if i < 0 {
		return
	}
	field := msg[i+len(benchKey) : i+len(benchKey)+tsDigits]
	for j := range field {
		field[j] = '0'
	}
	s := strconv.AppendInt(nil, ts, 10)
	copy(field[tsDigits-len(s):], s)
}

// readStamp returns the time field of a load message, and false for any
// other message.
func readStamp(msg []byte) (int64, bool) {
	i := bytes.Index(msg, []byte(benchKey))
	if i < 0 || len(msg) < i+len(benchKey)+tsDigits {
		return 0, false
	}
	ts, err := strconv.ParseInt(string(msg[i+len(benchKey):i+len(benchKey)+tsDigits]), 10, 64)
	if err != nil {
		return 0, false
	}
	return ts, true
}

// load is the state the clients of one run share.
type load struct {
	base      time.Time
	closing   atomic.Bool
	dropped   atomic.Int64 // connections that ended before the run closed them
	received  atomic.Int64 // every message received
	delivered atomic.Int64 // load messages received
	// tokens is the throughput window, refilled by window.
	tokens     chan struct{}
	recordFrom atomic.Int64 // latencies of messages stamped at or after this are kept
}

func newLoad() *load {
	l := &load{base: time.Now()}
	l.recordFrom.Store(1<<63 - 1)
	return l
}

func (l *load) now() int64 { return int64(time.Since(l.base)) }

// client is one load connection.
type client struct {
	l      *load
	ws     *websocket.Conn
	joined chan struct{}
	done   chan struct{}

	// got counts load messages received, sent those sent: a client
	// hears every load message but its own, so got+sent is how far it
	// has caught up.
	got, sent atomic.Int64
}

// window lets senders run at most w messages ahead of the slowest
// receiver, so that no receiver's backlog on the server exceeds w
// messages, until stop is closed.
func (l *load) window(cs []*client, w int, stop <-chan struct{}) {
	issued := int64(0)
	for {
		low := int64(1<<63 - 1)
		for _, c := range cs {
			select {
			case <-c.done:
				continue // a dropped connection is counted elsewhere
			default:
			}
			low = min(low, c.got.Load()+c.sent.Load())
		}
	fill:
		for issued < low+int64(w) {
			select {
			case l.tokens <- struct{}{}:
				issued++
			default:
				break fill
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Microsecond):
		}
	}
}

// dialClients opens n connections to url, parallel at most conc at a
// time, and returns those that opened.
func dialClients(ctx context.Context, l *load, url string, n, conc int) ([]*client, error) {
	return dialAll(ctx, n, conc, func(ctx context.Context) (*client, error) {
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return nil, err
		}
		ws.SetReadLimit(1 << 20)
		c := &client{l: l, ws: ws, joined: make(chan struct{}, 1), done: make(chan struct{})}
		go c.readLoop()
		return c, nil
	})
}

// dialAll runs dial n times, at most conc at a time and each within 30 s,
// and returns the connections that opened; it fails only when none did.
func dialAll[T any](ctx context.Context, n, conc int, dial func(context.Context) (*T, error)) ([]*T, error) {
	out := make([]*T, n)
	errs := make([]error, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			out[i], errs[i] = dial(dctx)
		}()
	}
	wg.Wait()
	held := out[:0]
	for _, c := range out {
		if c != nil {
			held = append(held, c)
		}
	}
	if len(held) == 0 {
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	return held, nil
}

func (c *client) readLoop() {
	defer close(c.done)
	buf := make([]byte, 0, 512)
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf, err = readAll(r, buf[:0])
		}
		if err != nil {
			if !c.l.closing.Load() {
				c.l.dropped.Add(1)
			}
			return
		}
		c.handle(buf)
	}
}

// readAll reads r to its end into buf, reusing buf's memory.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (c *client) handle(msg []byte) {
	if _, ok := c.l.count(msg); ok {
		c.got.Add(1)
		return
	}
	passJoined(msg, c.joined)
}

// count counts a received message and returns its time stamp, if it is
// a load message.
func (l *load) count(msg []byte) (int64, bool) {
	l.received.Add(1)
	ts, ok := readStamp(msg)
	if ok {
		l.delivered.Add(1)
	}
	return ts, ok
}

// passJoined hands a joined answer to a join waiting for it.
func passJoined(msg []byte, joined chan<- struct{}) {
	if bytes.Contains(msg, []byte(`"type":"joined"`)) {
		select {
		case joined <- struct{}{}:
		default:
		}
	}
}

func joinMessage(room string) []byte { return []byte(`{"type":"join","room":"` + room + `"}`) }

// join sends a join for room and waits for the server's answer.
func (c *client) join(ctx context.Context, room string) error {
	select { // forget an old answer
	case <-c.joined:
	default:
	}
	if err := c.ws.Write(ctx, websocket.MessageText, joinMessage(room)); err != nil {
		return err
	}
	select {
	case <-c.joined:
		return nil
	case <-c.done:
		return errors.New("signalbench: connection closed while joining")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// blast sends msg whenever the window allows until stop is closed.
func (c *client) blast(stop <-chan struct{}, msg []byte) {
	for {
		select {
		case <-stop:
			return
		case <-c.l.tokens:
		}
		if c.ws.Write(context.Background(), websocket.MessageText, msg) != nil {
			return
		}
		c.sent.Add(1)
	}
}

// closeAll closes every client without a close handshake and waits for
// their readers.
func closeAll(l *load, cs []*client) {
	l.closing.Store(true)
	for _, c := range cs {
		c.ws.CloseNow()
	}
	for _, c := range cs {
		<-c.done
	}
}
