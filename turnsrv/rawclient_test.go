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

// rawAllocate performs an authenticated Allocate by hand, for attributes
// pion's client does not send (EVEN-PORT, RESERVATION-TOKEN). conn nil
// means a new loopback socket, closed at the end of the test.
func rawAllocate(t testing.TB, server net.Addr, user, pass string, conn net.PacketConn, extra ...stun.Setter) rawResult {
	t.Helper()
	if conn == nil {
		var err error
		if conn, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
	}
	allocate := stun.NewType(stun.MethodAllocate, stun.ClassRequest)
	first := exchange(t, conn, server, append([]stun.Setter{stun.TransactionID, allocate, requestUDP}, extra...)...)
	var nonce stun.Nonce
	var realm stun.Realm
	if err := nonce.GetFrom(first); err != nil {
		t.Fatalf("no nonce in %v", first)
	}
	if err := realm.GetFrom(first); err != nil {
		t.Fatalf("no realm in %v", first)
	}
	setters := append([]stun.Setter{stun.TransactionID, allocate, requestUDP}, extra...)
	setters = append(setters, stun.NewUsername(user), realm, nonce,
		stun.NewLongTermIntegrity(user, realm.String(), pass), stun.Fingerprint)
	resp := exchange(t, conn, server, setters...)
	out := rawResult{resp: resp, conn: conn}
	if resp.Type.Class == stun.ClassErrorResponse {
		var code stun.ErrorCodeAttribute
		if err := code.GetFrom(resp); err != nil {
			t.Fatalf("error response without code: %v", resp)
		}
		out.code = int(code.Code)
		return out
	}
	var relayed stun.XORMappedAddress
	if err := relayed.GetFromAs(resp, stun.AttrXORRelayedAddress); err != nil {
		t.Fatalf("no relayed address: %v", err)
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
