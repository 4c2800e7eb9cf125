package wsserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Presence timing on NATS: each server heartbeats every interval, and
// the peers of a server unheard for expiry are announced as left.
const (
	defaultHeartbeat = time.Second
	expiryBeats      = 3
)

// natsBus is a [bus] on a NATS connection. Subjects, under prefix:
//
//	<prefix>.room.<room>  a room's events
//	<prefix>.presence     heartbeats: "h <server> [<server to announce, or *>]"
//	<prefix>.sync         "who is in this room?": "q <server> <nonce>\n<room>"
//
// A room event is "<kind> <server> <a> <b>\n<payload>":
//
//	m <server> <from> <to>\n<message>   to is empty for the whole room
//	j <server> <peer> <at>\n<join message, if any>
//	l <server> <peer> <1 to announce, else 0>
//	s <server> <nonce> \n<id>:<at> ...  all its members of the room
//
// Peer ids are [validID] ids and server ids hex, so spaces separate.
type natsBus struct {
	nc     *nats.Conn
	prefix string
	id     string
	srv    busServer
	log    *slog.Logger
	beat   time.Duration

	presence, sync *nats.Subscription
	stop           chan struct{}
	done           chan struct{}
	closeOnce      sync.Once

	mu      sync.Mutex
	seen    map[string]time.Time // other servers, when last heard
	pending map[string]*syncWait // open syncs, by nonce
	paused  bool                 // no heartbeats, as if dead (tests)
}

// syncWait gathers the answers to one sync request.
type syncWait struct {
	want map[string]bool // servers yet to answer
	done chan struct{}
}

// newNATSBus makes a bus on nc; start begins its work.
func newNATSBus(nc *nats.Conn, prefix string, beat time.Duration, srv busServer, log *slog.Logger) *natsBus {
	if prefix == "" {
		prefix = "avlink"
	}
	if beat <= 0 {
		beat = defaultHeartbeat
	}
	b := &natsBus{
		nc: nc, prefix: prefix, id: randomID(), srv: srv, log: log, beat: beat,
		stop: make(chan struct{}), done: make(chan struct{}),
		seen: map[string]time.Time{}, pending: map[string]*syncWait{},
	}
	return b
}

// start subscribes to presence and sync requests, learns of the other
// servers, and starts the heartbeats. From then on the bus calls srv.
func (b *natsBus) start() error {
	nc, prefix := b.nc, b.prefix
	var err error
	if b.presence, err = nc.Subscribe(prefix+".presence", b.onPresence); err != nil {
		return fmt.Errorf("signal: nats: %w", err)
	}
	if b.sync, err = nc.Subscribe(prefix+".sync", b.onSync); err != nil {
		_ = b.presence.Unsubscribe()
		return fmt.Errorf("signal: nats: %w", err)
	}
	if err := b.rollCall(); err != nil {
		_ = b.presence.Unsubscribe()
		_ = b.sync.Unsubscribe()
		return fmt.Errorf("signal: nats: %w", err)
	}
	go b.heartbeat()
	return nil
}

// rollCall asks every server to answer at once, so that a server knows
// the others before its first join: each answer comes within a round trip
// or so, and the call ends when answers stop coming.
func (b *natsBus) rollCall() error {
	inbox := b.nc.NewInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := b.nc.PublishRequest(b.prefix+".presence", inbox, []byte("h "+b.id)); err != nil {
		return err
	}
	if err := b.nc.Flush(); err != nil {
		return err
	}
	const quiet, most = 50 * time.Millisecond, 500 * time.Millisecond
	end := time.Now().Add(most)
	for time.Now().Before(end) {
		m, err := sub.NextMsg(quiet)
		if err != nil {
			break // nats.ErrTimeout: no more answers
		}
		if f := strings.Fields(string(m.Data)); len(f) >= 2 && f[0] == "h" && f[1] != b.id {
			b.touch(f[1])
		}
	}
	return nil
}

func randomID() string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// roomSubject escapes room into one subject token: letters, digits and
// '-' stay, every other byte is %XX, and the default room "" is "_".
func (b *natsBus) roomSubject(room string) string {
	if room == "" {
		return b.prefix + ".room._"
	}
	var sb strings.Builder
	sb.WriteString(b.prefix)
	sb.WriteString(".room.")
	for i := 0; i < len(room); i++ {
		c := room[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

func (b *natsBus) open(room string, h func(busEvent)) (func(), error) {
	sub, err := b.nc.Subscribe(b.roomSubject(room), func(m *nats.Msg) {
		e, ok := parseEvent(m.Data)
		if !ok || e.server == b.id {
			return
		}
		// The members first, then the answer: the joiner waiting on it
		// must find them in the room, or its joined list misses them
		// and they come after it as peer-joined.
		h(e)
		if e.kind == evMembers && e.nonce != "" {
			b.answered(e.nonce, e.server)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("signal: nats: %w", err)
	}
	unsub := func() { _ = sub.Unsubscribe() }
	// The subscription must be in place before the question, so that no
	// event after an answer is missed. Without NATS just now, the
	// subscription stays for when it is back, and the members come then
	// (see heartbeat).
	if err := b.nc.Flush(); err != nil {
		b.log.Warn("signal: nats: room shared without its members yet", "room", room, "err", err)
		return unsub, nil
	}
	nonce := randomID()
	w := &syncWait{want: map[string]bool{}, done: make(chan struct{})}
	b.mu.Lock()
	for id := range b.seen {
		w.want[id] = true
	}
	if len(w.want) > 0 {
		b.pending[nonce] = w
	}
	b.mu.Unlock()
	if len(w.want) == 0 {
		return unsub, nil // nobody to ask; late comers announce themselves
	}
	if err := b.nc.Publish(b.prefix+".sync", []byte("q "+b.id+" "+nonce+"\n"+room)); err != nil {
		b.log.Warn("signal: nats: asking for a room's members", "room", room, "err", err)
	}
	// A live server answers within a round trip; one that has died
	// without a word is not waited for past a heartbeat.
	t := time.NewTimer(b.beat)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
		// A server that died without a word yet: its members, if any,
		// arrive later as peer-joined.
	case <-b.stop:
	}
	b.mu.Lock()
	delete(b.pending, nonce)
	b.mu.Unlock()
	return unsub, nil
}

func (b *natsBus) answered(nonce, server string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.pending[nonce]
	if w == nil || !w.want[server] {
		return
	}
	delete(w.want, server)
	if len(w.want) == 0 {
		close(w.done)
		delete(b.pending, nonce)
	}
}

func (b *natsBus) publish(room string, e busEvent) {
	var buf bytes.Buffer
	buf.Grow(len(e.msg) + 64)
	buf.WriteByte(e.kind)
	buf.WriteByte(' ')
	buf.WriteString(b.id)
	buf.WriteByte(' ')
	switch e.kind {
	case evMessage:
		buf.WriteString(e.peer)
		buf.WriteByte(' ')
		buf.WriteString(e.to)
		buf.WriteByte('\n')
		buf.Write(e.msg)
	case evJoin:
		buf.WriteString(e.peer)
		buf.WriteByte(' ')
		buf.WriteString(strconv.FormatInt(e.at, 10))
		buf.WriteByte('\n')
		buf.Write(e.msg)
	case evLeave:
		buf.WriteString(e.peer)
		if e.announce {
			buf.WriteString(" 1\n")
		} else {
			buf.WriteString(" 0\n")
		}
	case evMembers:
		buf.WriteString(e.nonce)
		buf.WriteString(" \n")
		for i, m := range e.members {
			if i > 0 {
				buf.WriteByte(' ')
			}
			buf.WriteString(m.id)
			buf.WriteByte(':')
			buf.WriteString(strconv.FormatInt(m.at, 10))
		}
	}
	if err := b.nc.Publish(b.roomSubject(room), buf.Bytes()); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.log.Warn("signal: nats: publish failed", "room", room, "err", err)
	}
}

// parseEvent reads a room event; ids are [validID] ids and server ids
// hex, so a space separates the fields.
func parseEvent(data []byte) (busEvent, bool) {
	head, body, _ := bytes.Cut(data, []byte{'\n'})
	f := strings.Split(string(head), " ")
	if len(f) != 4 || len(f[0]) != 1 {
		return busEvent{}, false
	}
	e := busEvent{kind: f[0][0], server: f[1]}
	switch e.kind {
	case evMessage:
		e.peer, e.to, e.msg = f[2], f[3], body
	case evJoin:
		e.peer, e.msg = f[2], body
		e.at, _ = strconv.ParseInt(f[3], 10, 64)
	case evLeave:
		e.peer, e.announce = f[2], f[3] == "1"
	case evMembers:
		e.nonce = f[2]
		if len(body) > 0 {
			for _, t := range strings.Split(string(body), " ") {
				id, at, _ := strings.Cut(t, ":")
				n, _ := strconv.ParseInt(at, 10, 64)
				e.members = append(e.members, member{id, n})
			}
		}
	default:
		return busEvent{}, false
	}
	return e, true
}

// touch notes that server is alive, and reports whether it was unknown.
func (b *natsBus) touch(server string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, known := b.seen[server]
	b.seen[server] = time.Now()
	return !known
}

func (b *natsBus) onPresence(m *nats.Msg) {
	f := strings.Fields(string(m.Data))
	if len(f) < 2 || f[0] != "h" || f[1] == b.id {
		return
	}
	b.mu.Lock()
	paused := b.paused
	b.mu.Unlock()
	if m.Reply != "" && !paused {
		_ = b.nc.Publish(m.Reply, []byte("h "+b.id))
	}
	if b.touch(f[1]) {
		// A server new to this one: tell it to announce its members
		// here, and let it learn of this one (it asks back in turn).
		b.send(f[1])
	}
	if len(f) > 2 && (f[2] == b.id || f[2] == "*") {
		b.srv.announceAll()
	}
}

func (b *natsBus) onSync(m *nats.Msg) {
	head, room, _ := bytes.Cut(m.Data, []byte{'\n'})
	f := strings.Fields(string(head))
	if len(f) != 3 || f[0] != "q" || f[1] == b.id {
		return
	}
	b.srv.announceRoom(string(room), f[2])
}

// send publishes a heartbeat, naming a server that should announce its
// members when ask is set.
func (b *natsBus) send(ask string) {
	b.mu.Lock()
	paused := b.paused
	b.mu.Unlock()
	if paused {
		return
	}
	msg := "h " + b.id
	if ask != "" {
		msg += " " + ask
	}
	if err := b.nc.Publish(b.prefix+".presence", []byte(msg)); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.log.Debug("signal: nats: heartbeat not sent", "err", err)
	}
}

// heartbeat announces this server every interval and forgets servers
// unheard for expiryBeats intervals.
func (b *natsBus) heartbeat() {
	defer close(b.done)
	t := time.NewTicker(b.beat)
	defer t.Stop()
	b.send("")
	reconnects := b.nc.Stats().Reconnects
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		if n := b.nc.Stats().Reconnects; n != reconnects {
			// Events may have been lost while NATS was away: every
			// server, this one too, announces its members again.
			reconnects = n
			b.send("*")
			b.srv.announceAll()
		} else {
			b.send("")
		}
		var gone []string
		b.mu.Lock()
		for id, at := range b.seen {
			if time.Since(at) > expiryBeats*b.beat {
				delete(b.seen, id)
				gone = append(gone, id)
				for nonce, w := range b.pending {
					if w.want[id] {
						delete(w.want, id)
						if len(w.want) == 0 {
							close(w.done)
							delete(b.pending, nonce)
						}
					}
				}
			}
		}
		b.mu.Unlock()
		for _, id := range gone {
			b.srv.serverGone(id)
		}
	}
}

// pause stops the heartbeats and nothing else: to the other servers this
// one has died.
func (b *natsBus) pause() {
	b.mu.Lock()
	b.paused = true
	b.mu.Unlock()
}

func (b *natsBus) close() {
	b.closeOnce.Do(func() {
		close(b.stop)
		<-b.done
		_ = b.presence.Unsubscribe()
		_ = b.sync.Unsubscribe()
	})
}
