package wsserver

import (
	"bytes"
	"fmt"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
)

// readers counts the goroutines reading a connection of the server.
func readers() int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	return strings.Count(buf.String(), "wsserver.(*Server).run(")
}

// An idle connection, joined or not, keeps no goroutine: it waits in the
// server's poller, and what its client sends next is still read, in
// order, by a reader started for it.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	_, url := startServer(t, Config{})
	const n = 20
	clients := make([]*rawClient, n)
	for i := range clients {
		clients[i] = dialRaw(t, url)
		if i%2 == 0 {
			clients[i].joinRoom(fmt.Sprintf("r%d", i/2), "")
		}
	}
	// A reader parks once it has nothing left to read.
	assert.Eventually(t, func() bool { return readers() == 0 }, 5*time.Second, 20*time.Millisecond,
		"readers still waiting on idle connections")

	// Both ends of each room talk again; nothing is lost or reordered.
	for i := 0; i < n; i += 2 {
		other := clients[i+1]
		id := other.joinRoom(fmt.Sprintf("r%d", i/2), "")["id"]
		clients[i].readType(signal.TypeJoin)
		for k := range 3 {
			clients[i].send(fmt.Sprintf(`{"type":"seq","n":%d}`, k))
		}
		for k := range 3 {
			m := other.readType("seq")
			require.Equal(t, float64(k), m["n"])
		}
		other.send(`{"type":"hello"}`)
		assert.Equal(t, id, clients[i].readType("hello")["sender"])
	}
}
