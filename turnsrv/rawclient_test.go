package turnsrv

import (
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// rawResult is the outcome of one hand-built Allocate.
type rawResult struct {
	resp  *stun.Message
	relay *net.UDPAddr
	token []byte
	code  int
	conn  net.PacketConn
}

var requestUDP = stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}

// evenPort asks for an even relay port and a reservation of the next one.
var evenPort = stun.RawAttribute{Type: stun.AttrEvenPort, Value: []byte{0x80}}

func reservation(token []byte) stun.Setter {
	return stun.RawAttribute{Type: stun.AttrReservationToken, Value: token}
}

// rawSession is a hand-built TURN client on one socket, for attributes
// pion's client does not send (EVEN-PORT, RESERVATION-TOKEN) and for
// driving the server without a client library in between.
type rawSession struct {
	t          testing.TB
	conn       net.PacketConn
	server     net.Addr
	user, pass string
	nonce      stun.Nonce
	realm      stun.Realm
}

// newRawSession opens a session; conn nil means a new loopback socket,
// closed at the end of the test.
func newRawSession(t testing.TB, server net.Addr, user, pass string, conn net.PacketConn) *rawSession {
	t.Helper()
	if conn == nil {
		var err error
		if conn, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
	}
	return &rawSession{t: t, conn: conn, server: server, user: user, pass: pass}
}

// request sends an authenticated request, fetching a nonce first when
// needed, and returns the final response.
func (r *rawSession) request(method stun.Method, attrs ...stun.Setter) *stun.Message {
	r.t.Helper()
	typ := stun.NewType(method, stun.ClassRequest)
	for range 3 {
		setters := append([]stun.Setter{stun.TransactionID, typ}, attrs...)
		if r.nonce != nil {
			setters = append(setters, stun.NewUsername(r.user), r.realm, r.nonce,
				stun.NewLongTermIntegrity(r.user, r.realm.String(), r.pass), stun.Fingerprint)
		}
		resp := exchange(r.t, r.conn, r.server, setters...)
		var code stun.ErrorCodeAttribute
		if resp.Type.Class == stun.ClassErrorResponse && code.GetFrom(resp) == nil &&
			(code.Code == stun.CodeUnauthorized && r.nonce == nil || code.Code == stun.CodeStaleNonce) {
			if err := r.nonce.GetFrom(resp); err != nil {
				return resp
			}
			_ = r.realm.GetFrom(resp)
			continue
		}
		return resp
	}
	r.t.Fatal("authentication did not converge")
	return nil
}

// peerAttr is an XOR-PEER-ADDRESS.
type peerAttr struct{ addr *net.UDPAddr }

func (p peerAttr) AddTo(m *stun.Message) error {
	return (&stun.XORMappedAddress{IP: p.addr.IP, Port: p.addr.Port}).AddToAs(m, stun.AttrXORPeerAddress)
}

// channelBind binds channel number ch to peer.
func (r *rawSession) channelBind(ch uint16, peer *net.UDPAddr) *stun.Message {
	r.t.Helper()
	return r.request(stun.MethodChannelBind,
		stun.RawAttribute{Type: stun.AttrChannelNumber, Value: []byte{byte(ch >> 8), byte(ch), 0, 0}},
		peerAttr{peer})
}

// rawAllocate performs an authenticated Allocate by hand on a new session.
func rawAllocate(t testing.TB, server net.Addr, user, pass string, conn net.PacketConn, extra ...stun.Setter) rawResult {
	t.Helper()
	r := newRawSession(t, server, user, pass, conn)
	return r.allocate(extra...)
}

func (r *rawSession) allocate(extra ...stun.Setter) rawResult {
	r.t.Helper()
	resp := r.request(stun.MethodAllocate, append([]stun.Setter{requestUDP}, extra...)...)
	out := rawResult{resp: resp, conn: r.conn}
	if resp.Type.Class == stun.ClassErrorResponse {
		var code stun.ErrorCodeAttribute
		if err := code.GetFrom(resp); err != nil {
			r.t.Fatalf("error response without code: %v", resp)
		}
		out.code = int(code.Code)
		return out
	}
	var relayed stun.XORMappedAddress
	if err := relayed.GetFromAs(resp, stun.AttrXORRelayedAddress); err != nil {
		r.t.Fatalf("no relayed address: %v", err)
	}
	out.relay = &net.UDPAddr{IP: relayed.IP, Port: relayed.Port}
	if tok, err := resp.Get(stun.AttrReservationToken); err == nil {
		out.token = append([]byte(nil), tok...)
	}
	return out
}

// exchange sends one request and returns the matching response.
func exchange(t testing.TB, conn net.PacketConn, server net.Addr, setters ...stun.Setter) *stun.Message {
	t.Helper()
	req, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	for attempt := 0; attempt < 5; attempt++ {
		if _, err := conn.WriteTo(req.Raw, server); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				break // timeout: retransmit
			}
			resp := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if resp.Decode() == nil && resp.TransactionID == req.TransactionID {
				return resp
			}
		}
	}
	t.Fatalf("no response to %v", req)
	return nil
}
