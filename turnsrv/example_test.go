package turnsrv_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/avlink/avlink/turnsrv"
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

// Run a TURN server inside a program, next to its signaling server.
func ExampleNew() {
	srv, err := turnsrv.New(turnsrv.Config{
		ListeningIPs:  []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		ListeningPort: -1, // any free port, for the example
		NoTCP:         true,
		Realm:         "example.org",
		AuthSecrets:   []string{"shared-secret"},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = srv.Close() }()
	fmt.Println("listening on UDP:", len(srv.Addrs().UDP) == 1)
	// Output: listening on UDP: true
}
