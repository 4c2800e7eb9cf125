package turnsrv_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/avlink/avlink/turnsrv"
	"github.com/pion/turn/v5"
)

// A signaling server mints a credential valid for ten minutes and hands it
// to a browser with the TURN URL.
func ExampleRESTCredentials() {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	user, pass := turnsrv.RESTCredentials("shared-secret", "viewer", 10*time.Minute, now)
	fmt.Println(user)
	fmt.Println(pass)
	// Output:
	// 1767323645:viewer
	// fGM8rAeNIB5maYakkP7ddVvYAO4=
}

func ExampleParseConf() {
	conf := `
listening-port=3478
listening-ip=10.0.0.5
relay-ip=10.0.0.5
external-ip=203.0.113.10/10.0.0.5
realm=203.0.113.10
lt-cred-mech
user=robot:s3cret
no-tls
stale-nonce=600
`
	f, err := turnsrv.ParseConf(strings.NewReader(conf))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Config.ListeningPort, f.Config.ExternalIPs[0], f.Config.Realm)
	for _, w := range f.Warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// 3478 203.0.113.10/10.0.0.5 203.0.113.10
	// warning: line 10: stale-nonce: unknown key, ignored
}

// Run a TURN server inside a program, next to its signaling server, and
// relay a datagram through it with a short-lived credential, as a
// browser's WebRTC stack would.
func ExampleNew() {
	const secret = "shared-with-signaling"
	srv, err := turnsrv.New(turnsrv.Config{
		ListeningIPs:       []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		AnyPort:            true, // free ports, for the example; the default is 3478
		Realm:              "example.org",
		AuthSecrets:        []string{secret},
		AllowLoopbackPeers: true, // the example's peer is on 127.0.0.1
		Logger:             slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = srv.Close() }()
	server := srv.Addrs().UDP[0].String()

	// The signaling server mints a credential and hands it to the client
	// with the URL "turn:"+server.
	user, pass := turnsrv.RESTCredentials(secret, "viewer", 10*time.Minute, time.Now())

	// The client allocates a relay address with pion's TURN client.
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = conn.Close() }()
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn, Username: user, Password: pass,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	relay, err := client.Allocate()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = relay.Close() }()
	fmt.Println("allocations:", srv.ActiveAllocations())

	// A peer receives what the client sends, from the relay address.
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = peer.Close() }()
	if _, err := relay.WriteTo([]byte("hello"), peer.LocalAddr()); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("peer got %q from the relay address: %v\n", buf[:n], from.String() == relay.LocalAddr().String())
	// Output:
	// allocations: 1
	// peer got "hello" from the relay address: true
}
