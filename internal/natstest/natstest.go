// Package natstest runs a NATS server inside a test process, for tests of
// what speaks NATS.
package natstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
)

// Start runs a NATS server on 127.0.0.1 and a free port until the test
// ends, and returns it; its ClientURL is what to connect to.
func Start(t testing.TB) *server.Server {
	t.Helper()
	return StartOn(t, -1)
}

// StartOn is Start on the given port: -1 for a free one, or the port of
// a server shut down before, to bring it back.
func StartOn(t testing.TB, port int) *server.Server {
	t.Helper()
	return run(t, &server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
}

// run starts a NATS server with opts, waits until it takes connections,
// and shuts it down when the test ends.
func run(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	ns, err := server.NewServer(opts)
	require.NoError(t, err)
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatal("natstest: NATS server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// Connect connects to ns until the test ends (or the caller closes the
// connection first).
func Connect(t testing.TB, ns *server.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return Dial(t, ns.ClientURL(), opts...)
}

// Dial connects to urls (comma-separated) until the test ends (or the
// caller closes the connection first). Asynchronous errors (a server shut
// down under the connection) are not printed, as nats.go does by
// default.
func Dial(t testing.TB, urls string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}, opts...)
	nc, err := nats.Connect(urls, opts...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// Cluster runs n NATS servers routed to each other as one cluster until
// the test ends, and returns them once every route is up. Shut one down
// to see clients fail over to the others.
func Cluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	var nodes []*server.Server
	for i := range n {
		opts := &server.Options{
			Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			ServerName: fmt.Sprintf("n%d", i+1),
			Cluster:    server.ClusterOpts{Name: "natstest", Host: "127.0.0.1", Port: -1},
		}
		if i > 0 {
			opts.Routes = server.RoutesFromStr("nats://" + nodes[0].ClusterAddr().String())
		}
		nodes = append(nodes, run(t, opts))
	}
	// Routes form by gossip: wait until each node has one to every other
	// (a node may hold several connections per peer, hence at least).
	require.Eventually(t, func() bool {
		for _, ns := range nodes {
			if ns.NumRoutes() < n-1 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "natstest: cluster routes")
	return nodes
}

// URLs lists the client URLs of nodes, first first, comma-separated as
// nats.Connect takes them.
func URLs(first *server.Server, nodes []*server.Server) string {
	urls := []string{first.ClientURL()}
	for _, ns := range nodes {
		if ns != first {
			urls = append(urls, ns.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// Restart brings a cluster node back after it was shut down: a node on
// port (its old client port, so that clients listing it find it again)
// that routes to live, a node still in the cluster. It returns once the
// route is up, and runs until the test ends.
func Restart(t testing.TB, port int, name string, live *server.Server) *server.Server {
	t.Helper()
	opts := &server.Options{
		Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true,
		ServerName: name,
		Cluster:    server.ClusterOpts{Name: "natstest", Host: "127.0.0.1", Port: -1},
		Routes:     server.RoutesFromStr("nats://" + live.ClusterAddr().String()),
	}
	ns := run(t, opts)
	require.Eventually(t, func() bool { return ns.NumRoutes() > 0 }, 10*time.Second, 10*time.Millisecond, "natstest: route back")
	return ns
}
