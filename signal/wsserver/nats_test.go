package wsserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/internal/natstest"
	"github.com/avlink/avlink/signal"
)

// startShared runs a Server sharing rooms over ns, on a NATS connection
// of its own as a server in another process would have, and returns it,
// its ws:// URL and the connection.
func startShared(t *testing.T, ns *server.Server, cfg Config) (*Server, string, *nats.Conn) {
	t.Helper()
	nc := natstest.Connect(t, ns)
	cfg.NATS = nc
	s, url := startServer(t, cfg)
	meetFleet(t, s)
	return s, url, nc
}

// fleets holds each test's servers on NATS, so that a new one starts
// serving once it and the others know each other.
var fleets sync.Map // *testing.T -> *[]*Server

// meetFleet waits until s and every other open server of the test have
// heard of each other; bounded. A server that starts while another's
// answer to its roll call is slow (a loaded machine) still learns of it,
// from its next heartbeat, and its clients then hear of that one's peers
// as peer-joined; the tests that count messages start after that.
func meetFleet(t *testing.T, s *Server) {
	t.Helper()
	v, loaded := fleets.LoadOrStore(t, &[]*Server{})
	if !loaded {
		t.Cleanup(func() { fleets.Delete(t) })
	}
	all := v.(*[]*Server)
	knows := func(a, b *Server) bool {
		nb := a.bus.(*natsBus)
		nb.mu.Lock()
		defer nb.mu.Unlock()
		_, ok := nb.seen[b.bus.(*natsBus).id]
		return ok
	}
	for _, o := range *all {
		o.mu.Lock()
		closed := o.closed
		o.mu.Unlock()
		if closed {
			continue
		}
		require.Eventually(t, func() bool { return knows(s, o) && knows(o, s) }, 10*time.Second, 20*time.Millisecond,
			"two servers on one NATS system did not hear of each other in 10 s")
	}
	*all = append(*all, s)
}

// peers lists the ids in a joined answer.
func peers(m map[string]any) []string {
	var out []string
	ps, _ := m["peers"].([]any)
	for _, p := range ps {
		out = append(out, p.(string))
	}
	return out
}

// joinRoom joins room and returns the joined answer.
func (r *rawClient) joinRoom(room, id string) map[string]any {
	r.t.Helper()
	if id == "" {
		r.send(`{"type":"join","room":"` + room + `"}`)
	} else {
		r.send(`{"type":"join","room":"` + room + `","id":"` + id + `"}`)
	}
	m := r.readType(signal.TypeJoined)
	require.Equal(r.t, room, m["room"])
	return m
}

// startOnNode runs a Server on a NATS connection to node first (the
// others of nodes after it), as a server beside that node would have.
func startOnNode(t *testing.T, node *server.Server, nodes []*server.Server) (*Server, string, *nats.Conn) {
	t.Helper()
	nc := natstest.Dial(t, natstest.URLs(node, nodes),
		nats.DontRandomize(), nats.ReconnectWait(20*time.Millisecond), nats.MaxReconnects(-1))
	s, url := startServer(t, Config{NATS: nc, heartbeat: 100 * time.Millisecond})
	meetFleet(t, s)
	return s, url, nc
}

// threeInRoom puts a peer on each of three servers into room "r" and
// reads the first one's news of the other two joining.
func threeInRoom(t *testing.T, urls []string) (a, b, c *rawClient, ida, idb, idc string) {
	t.Helper()
	a, b, c = dialRaw(t, urls[0]), dialRaw(t, urls[1]), dialRaw(t, urls[2])
	ida = a.joinRoom("r", "")["id"].(string)
	idb = b.joinRoom("r", "")["id"].(string)
	idc = c.joinRoom("r", "")["id"].(string)
	a.readType(signal.TypeJoin)
	a.readType(signal.TypeJoin)
	return a, b, c, ida, idb, idc
}

// joinWhenListed joins room until the joined answer lists n members
// (a server that just moved or started learns them from the others),
// leaving for another room between tries; bounded. It returns the id
// and the last list.
func (r *rawClient) joinWhenListed(room string, n int) (id string, got []string) {
	r.t.Helper()
	for range 200 {
		r.send(`{"type":"join","room":"` + room + `"}`)
		m := r.readType(signal.TypeJoined)
		id, got = m["id"].(string), peers(m)
		if len(got) == n {
			return id, got
		}
		r.send(`{"type":"join","room":"elsewhere"}`)
		r.readType(signal.TypeJoined)
	}
	return id, got
}

// Peers spread over three servers see one room: joined lists, joins and
// leaves, messages for all and for one, and nothing of another room.
func TestNATSRoomAcrossThreeServers(t *testing.T) {
	ns := natstest.Start(t)
	_, urlA, _ := startShared(t, ns, Config{})
	_, urlB, _ := startShared(t, ns, Config{})
	_, urlC, _ := startShared(t, ns, Config{})

	a, b, c := dialRaw(t, urlA), dialRaw(t, urlB), dialRaw(t, urlC)
	ja := a.joinRoom("r", "")
	ida := ja["id"].(string)
	assert.Empty(t, peers(ja))
	jb := b.joinRoom("r", "")
	idb := jb["id"].(string)
	assert.Equal(t, []string{ida}, peers(jb))
	m := a.readType(signal.TypePeerJoined)
	assert.Equal(t, idb, m["peer"])
	assert.Equal(t, "r", m["room"])
	assert.Equal(t, idb, a.readType(signal.TypeJoin)["sender"], "the join itself is forwarded, as on one server")

	jc := c.joinRoom("r", "")
	idc := jc["id"].(string)
	assert.Equal(t, []string{ida, idb}, peers(jc), "oldest first")
	assert.Equal(t, idc, a.readType(signal.TypePeerJoined)["peer"])
	assert.Equal(t, idc, b.readType(signal.TypePeerJoined)["peer"])

	// d, on B, is in another room and hears nothing of r.
	d := dialRaw(t, urlB)
	d.joinRoom("other", "")

	a.send(`{"type":"offer","sdp":"to-all"}`)
	for _, x := range []*rawClient{b, c} {
		m := x.readType(signal.TypeOffer)
		assert.Equal(t, "to-all", m["sdp"])
		assert.Equal(t, ida, m["sender"])
	}
	c.send(`{"type":"answer","sdp":"for-a","to":"` + ida + `"}`)
	m = a.readType(signal.TypeAnswer)
	assert.Equal(t, "for-a", m["sdp"])
	assert.Equal(t, idc, m["sender"])
	b.send(`{"type":"candidate","to":"` + idc + `","candidate":{"candidate":"x"}}`)
	assert.Equal(t, idb, c.readType(signal.TypeCandidate)["sender"])
	c.send(`{"type":"offer","to":"nobody"}`)
	assert.Equal(t, signal.CodeUnknownPeer, c.readType(signal.TypeError)["code"])

	// a, the next thing b hears after a's offer: c's answer went to a only.
	a.send(`{"type":"mark","n":1}`)
	assert.Equal(t, "mark", b.read()["type"])

	b.conn.CloseNow()
	for _, x := range []*rawClient{a, c} {
		m := x.readType(signal.TypePeerLeft)
		assert.Equal(t, idb, m["peer"])
	}

	d2 := dialRaw(t, urlA)
	d2.joinRoom("other", "")
	assert.Equal(t, signal.TypePeerJoined, d.read()["type"])
	assert.Equal(t, signal.TypeJoin, d.read()["type"])
	d2.send(`{"type":"mark","room":"other"}`)
	m = d.read()
	assert.Equal(t, "mark", m["type"], "d heard nothing of room r: %v", m)
}

// 200 messages of one sender arrive in order, once, on another server
// and on the sender's own.
func TestNATSOrderWithoutDuplicates(t *testing.T) {
	ns := natstest.Start(t)
	_, urlA, _ := startShared(t, ns, Config{NoRateLimit: true})
	_, urlB, _ := startShared(t, ns, Config{})
	a, near, far := dialRaw(t, urlA), dialRaw(t, urlA), dialRaw(t, urlB)
	a.joinRoom("r", "")
	near.joinRoom("r", "")
	far.joinRoom("r", "")
	a.readType(signal.TypeJoin)
	a.readType(signal.TypeJoin)
	near.readType(signal.TypeJoin)

	const n = 200
	for i := range n {
		a.send(`{"type":"seq","n":` + strconv.Itoa(i) + `}`)
	}
	a.send(`{"type":"end"}`)
	for _, x := range []*rawClient{near, far} {
		for i := range n {
			m := x.read()
			require.Equal(t, "seq", m["type"])
			require.Equal(t, float64(i), m["n"])
		}
		assert.Equal(t, "end", x.read()["type"], "no message twice")
	}
}

// A client whose connection drops comes back on another server with its
// id, and its peers route to it there.
func TestNATSResumeOnAnotherServer(t *testing.T) {
	ns := natstest.Start(t)
	_, urlA, _ := startShared(t, ns, Config{})
	_, urlB, _ := startShared(t, ns, Config{})
	_, urlC, _ := startShared(t, ns, Config{})
	a, b := dialRaw(t, urlA), dialRaw(t, urlB)
	ida := a.joinRoom("r", "")["id"].(string)
	idb := b.joinRoom("r", "")["id"].(string)
	a.readType(signal.TypeJoin)

	b.conn.CloseNow()
	assert.Equal(t, idb, a.readType(signal.TypePeerLeft)["peer"])
	b2 := dialRaw(t, urlC)
	j := b2.joinRoom("r", idb)
	assert.Equal(t, idb, j["id"], "id kept on another server")
	assert.Equal(t, []string{ida}, peers(j))
	assert.Equal(t, idb, a.readType(signal.TypePeerJoined)["peer"])
	a.send(`{"type":"offer","sdp":"again","to":"` + idb + `"}`)
	assert.Equal(t, "again", b2.readType(signal.TypeOffer)["sdp"])
}

// The peers of a server that goes away are announced as left on the
// others within the bound: closed, silent (no heartbeats), or cut off
// from NATS. A peer that comes back elsewhere first is not.
func TestNATSServerDeath(t *testing.T) {
	for _, how := range []string{"close", "silent", "nats-closed"} {
		t.Run(how, func(t *testing.T) {
			ns := natstest.Start(t)
			beat := 100 * time.Millisecond
			if how == "close" {
				beat = 500 * time.Millisecond // time for b to come back
			}
			_, urlA, _ := startShared(t, ns, Config{heartbeat: beat})
			sB, urlB, ncB := startShared(t, ns, Config{heartbeat: beat})
			_, urlC, _ := startShared(t, ns, Config{heartbeat: beat})
			a, b, x := dialRaw(t, urlA), dialRaw(t, urlB), dialRaw(t, urlB)
			ida := a.joinRoom("r", "")["id"].(string)
			idb := b.joinRoom("r", "")["id"].(string)
			idx := x.joinRoom("r", "")["id"].(string)
			a.readType(signal.TypeJoin)
			a.readType(signal.TypeJoin)

			switch how {
			case "close":
				require.NoError(t, sB.Close())
				// b comes back on C before B's silence runs out (three
				// beats); x does not come back.
				b2 := dialRaw(t, urlC)
				assert.Equal(t, idb, b2.joinRoom("r", idb)["id"])
				assert.Equal(t, idb, a.readType(signal.TypePeerJoined)["peer"])
				assert.Equal(t, idx, a.readType(signal.TypePeerLeft)["peer"])
				// Had b been announced as left, it would have come with x.
				b2.send(`{"type":"hello","to":"` + ida + `"}`)
				m := a.read()
				assert.Equal(t, "hello", m["type"], "b stays: %v", m)
				return
			case "silent":
				sB.bus.(*natsBus).pause()
			case "nats-closed":
				ncB.Close()
			}
			left := map[any]bool{}
			left[a.readType(signal.TypePeerLeft)["peer"]] = true
			left[a.readType(signal.TypePeerLeft)["peer"]] = true
			assert.Equal(t, map[any]bool{idb: true, idx: true}, left)
			if how == "nats-closed" {
				// B, hearing no one, lets its own peers know a is gone.
				assert.Equal(t, ida, b.readType(signal.TypePeerLeft)["peer"])
			}
		})
	}
}

// Limits hold at the server a peer is connected to; a room is full
// counting the members on every server.
func TestNATSLimits(t *testing.T) {
	ns := natstest.Start(t)
	_, urlA, _ := startShared(t, ns, Config{MessagesPerSecond: 0.001, MessageBurst: 3, MaxPeersPerRoom: 3})
	_, urlB, _ := startShared(t, ns, Config{MaxPeersPerRoom: 3})
	a, e, b, d := dialRaw(t, urlA), dialRaw(t, urlA), dialRaw(t, urlB), dialRaw(t, urlB)
	a.joinRoom("r", "")
	e.joinRoom("r", "")
	b.joinRoom("r", "")
	e.readType(signal.TypePeerJoined) // B knows of both A's peers, A of b
	d.send(`{"type":"join","room":"r"}`)
	assert.Equal(t, signal.CodeRoomFull, d.readType(signal.TypeError)["code"])

	for i := range 5 {
		a.send(fmt.Sprintf(`{"type":"seq","n":%d}`, i))
	}
	assert.Equal(t, signal.CodeRateLimited, a.readType(signal.TypeError)["code"])
	// Sent after a's last on the same server, so it arrives after them.
	e.send(`{"type":"end"}`)
	// The join took one of a's three.
	for i := range 2 {
		assert.Equal(t, float64(i), b.readType("seq")["n"])
	}
	assert.Equal(t, "end", b.read()["type"])
}

// Clients that never join, as the original deployment's, share the
// default room across servers too.
func TestNATSDefaultRoom(t *testing.T) {
	ns := natstest.Start(t)
	_, urlA, _ := startShared(t, ns, Config{NoRateLimit: true})
	_, urlB, _ := startShared(t, ns, Config{})
	p2 := dialRaw(t, urlB)
	p1 := dialRaw(t, urlA)
	// Joining the default room again answers with its members; A learns
	// of p2 from B within a few round trips.
	var id1 string
	for range 200 {
		p1.send(`{"type":"join","room":""}`)
		m := p1.readType(signal.TypeJoined)
		id1 = m["id"].(string)
		if len(peers(m)) == 1 {
			break
		}
	}
	p1.send(`{"type":"offer","sdp":"plain"}`)
	m := p2.read()
	assert.Equal(t, "plain", m["sdp"])
	assert.Equal(t, id1, m["sender"])
	p1.conn.CloseNow()
	m = p2.readType(signal.TypePeerLeft)
	assert.Equal(t, id1, m["peer"], "p1 was heard, so its leaving is told")
}

// A client back on another server before its old server noticed it
// gone: the old connection's end is no peer-left, and its id routes to
// the new connection.
func TestNATSOldConnectionEndsAfterResume(t *testing.T) {
	ns := natstest.Start(t)
	_, urlA, _ := startShared(t, ns, Config{})
	sB, urlB, _ := startShared(t, ns, Config{})
	_, urlC, _ := startShared(t, ns, Config{})
	a, b, y := dialRaw(t, urlA), dialRaw(t, urlB), dialRaw(t, urlB)
	a.joinRoom("r", "")
	idb := b.joinRoom("r", "")["id"].(string)
	y.joinRoom("r", "")
	a.readType(signal.TypeJoin)
	a.readType(signal.TypeJoin)

	b2 := dialRaw(t, urlC)
	assert.Equal(t, idb, b2.joinRoom("r", idb)["id"])
	assert.Equal(t, idb, a.readType(signal.TypePeerJoined)["peer"])
	assert.Equal(t, idb, y.readType(signal.TypePeerJoined)["peer"])
	a.readType(signal.TypeJoin)
	y.readType(signal.TypeJoin)

	b.conn.CloseNow()
	require.Eventually(t, func() bool { return sB.count() == 1 }, 10*time.Second, 5*time.Millisecond)
	y.send(`{"type":"hi","to":"` + idb + `"}`)
	assert.Equal(t, "hi", b2.readType("hi")["type"])
	b2.send(`{"type":"after"}`)
	for _, x := range []*rawClient{a, y} {
		m := x.read()
		assert.Equal(t, "after", m["type"], "no peer-left for b: %v", m)
	}
}

// When NATS goes away, each server's members hear the others' peers
// leave; when it is back, they hear them join again.
func TestNATSOutageConverges(t *testing.T) {
	ns := natstest.Start(t)
	port := ns.Addr().(*net.TCPAddr).Port
	var first *Server
	start := func() string {
		nc := natstest.Connect(t, ns, nats.ReconnectWait(20*time.Millisecond), nats.MaxReconnects(-1))
		s, url := startServer(t, Config{NATS: nc, heartbeat: 100 * time.Millisecond})
		meetFleet(t, s)
		if first == nil {
			first = s
		}
		return url
	}
	a, b := dialRaw(t, start()), dialRaw(t, start())
	code, _ := health(first)
	assert.Equal(t, http.StatusOK, code)
	a.joinRoom("r", "")
	idb := b.joinRoom("r", "")["id"].(string)
	ida := a.readType(signal.TypeJoin)["sender"]
	assert.Equal(t, idb, ida)

	ns.Shutdown()
	ns.WaitForShutdown()
	m := a.readType(signal.TypePeerLeft)
	assert.Equal(t, idb, m["peer"])
	b.readType(signal.TypePeerLeft)
	code, body := health(first)
	assert.Equal(t, http.StatusServiceUnavailable, code, "health while NATS is away")
	assert.Contains(t, body, "nats: RECONNECTING")

	natstest.StartOn(t, port)
	waitHealthy(t, first)
	assert.Equal(t, idb, a.readType(signal.TypePeerJoined)["peer"])
	b.readType(signal.TypePeerJoined)
	a.send(`{"type":"back"}`)
	assert.Equal(t, "back", b.readType("back")["type"])
}

// On a 3-node NATS cluster, a signaling server whose NATS node dies
// moves to another node, and the room converges: messages flow both ways
// and a newcomer anywhere is told every member.
func TestNATSClusterNodeDies(t *testing.T) {
	nodes := natstest.Cluster(t, 3)
	var urls []string
	var servers []*Server
	for _, node := range nodes {
		s, url, nc := startOnNode(t, node, nodes)
		require.Equal(t, node.ClientURL(), nc.ConnectedUrl())
		servers, urls = append(servers, s), append(urls, url)
	}
	a, b, c, ida, idb, idc := threeInRoom(t, urls)
	b.readType(signal.TypeJoin)

	nodes[1].Shutdown() // b's server's node
	nodes[1].WaitForShutdown()

	// Whatever b's server missed while it moved, a newcomer on it is told
	// every member once the members are announced again.
	d := dialRaw(t, urls[1])
	idd, got := d.joinWhenListed("r", 3)
	assert.ElementsMatch(t, []string{ida, idb, idc}, got)

	// While b's server moves to another node, what the others send its
	// peers is lost (NATS delivers at most once), and its health says so.
	// Once it is back and its subscriptions have reached every node,
	// nothing more is lost, and a sender's messages come in order, once.
	waitHealthy(t, servers[1])
	reached := make(chan struct{})
	var probing sync.WaitGroup
	stopProbes := sync.OnceFunc(func() { close(reached); probing.Wait() })
	defer stopProbes()
	probing.Add(1)
	go func() {
		defer probing.Done()
		for i := 0; i < 100; i++ {
			select {
			case <-reached:
				return
			default:
			}
			_ = c.conn.Write(context.Background(), websocket.MessageText,
				[]byte(fmt.Sprintf(`{"type":"probe","n":%d,"to":"%s"}`, i, idb)))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	probe := b.readType("probe")
	stopProbes()
	assert.Equal(t, idc, probe["sender"])
	t.Logf("after the move, the first message to reach b was probe %v", probe["n"])
	const n = 20
	for i := range n {
		c.send(fmt.Sprintf(`{"type":"seq","n":%d,"to":"%s"}`, i, idb))
	}
	for i := range n {
		m := b.readType("seq")
		require.Equal(t, float64(i), m["n"], "message %d out of order or twice", i)
		require.Equal(t, idc, m["sender"])
	}
	b.send(`{"type":"hello","to":"` + ida + `"}`)
	assert.Equal(t, idb, a.readType("hello")["sender"])
	e := dialRaw(t, urls[0])
	assert.ElementsMatch(t, []string{ida, idb, idc, idd}, peers(e.joinRoom("r", "")))
}

// waitHealthy waits until s's health answers ok, as a load balancer
// would; bounded.
func waitHealthy(t *testing.T, s *Server) {
	t.Helper()
	require.Eventually(t, func() bool { code, _ := health(s); return code == http.StatusOK }, 5*time.Second, 20*time.Millisecond,
		"the server is not healthy after 5 s")
}

// health asks s's health handler.
func health(s *Server) (int, string) {
	rec := httptest.NewRecorder()
	s.Health().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return rec.Code, rec.Body.String()
}

// A signaling server and the NATS node under it die together and both
// come back: the peer on that server goes on from another with its id,
// the restarted server tells a newcomer every member, and a sender's
// messages reach every member, across all three servers, in order and
// once.
func TestNATSServerAndNodeDieAndReturn(t *testing.T) {
	nodes := natstest.Cluster(t, 3)
	var urls []string
	var servers []*Server
	for _, node := range nodes {
		s, url, _ := startOnNode(t, node, nodes)
		servers, urls = append(servers, s), append(urls, url)
	}
	a, _, c, ida, idb, idc := threeInRoom(t, urls)

	port := nodes[1].Addr().(*net.TCPAddr).Port
	require.NoError(t, servers[1].Close())
	nodes[1].Shutdown()
	nodes[1].WaitForShutdown()
	// b's client reconnects to another server and resumes its id.
	b2 := dialRaw(t, urls[2])
	assert.Equal(t, idb, b2.joinRoom("r", idb)["id"])

	node1 := natstest.Restart(t, port, "n2-again", nodes[0])
	_, url1, _ := startOnNode(t, node1, nodes)
	d := dialRaw(t, url1)
	idd, got := d.joinWhenListed("r", 3) // it learns the room from the others
	require.ElementsMatch(t, []string{ida, idb, idc}, got)

	const n = 50
	for i := range n {
		a.send(fmt.Sprintf(`{"type":"seq","n":%d}`, i))
	}
	a.send(`{"type":"end"}`)
	for name, r := range map[string]*rawClient{"b": b2, "c": c, "d": d} {
		for i := range n {
			m := r.readType("seq")
			require.Equal(t, float64(i), m["n"], "%s: message %d out of order or twice", name, i)
			require.Equal(t, ida, m["sender"])
		}
		for range 50 { // nothing more of the sequence comes before its end
			m := r.read()
			require.NotEqual(t, "seq", m["type"], "%s: a message came twice: %v", name, m)
			if m["type"] == "end" {
				break
			}
		}
	}
	d.send(`{"type":"hello","to":"` + idc + `"}`)
	assert.Equal(t, idd, c.readType("hello")["sender"])
	b2.send(`{"type":"hello","to":"` + idd + `"}`)
	assert.Equal(t, idb, d.readType("hello")["sender"])
}
