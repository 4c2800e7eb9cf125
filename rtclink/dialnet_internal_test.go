package rtclink

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/blackhole"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A TCP dial to a port that never answers gives up after the timeout,
// and at once when the session's context ends.
func TestBoundedDial(t *testing.T) {
	port := blackhole.TCP(t)
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	n, err := hostNet(context.Background())
	require.NoError(t, err)
	bn := n.(boundedDialNet)
	bn.timeout = 200 * time.Millisecond
	done := make(chan error, 1)
	go func() { _, err := bn.DialTCP("tcp4", nil, addr); done <- err }()
	select {
	case err := <-done:
		assert.Error(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the dial did not give up")
	}

	ctx, cancel := context.WithCancel(context.Background())
	bn.ctx, bn.timeout = ctx, time.Hour
	go func() { _, err := bn.DialTCP("tcp4", nil, addr); done <- err }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(20 * time.Second):
		t.Fatal("the dial outlived its context")
	}

	// A server that answers is dialled as before.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	bn.ctx = context.Background()
	c, err := bn.DialTCP("tcp4", nil, ln.Addr().(*net.TCPAddr))
	require.NoError(t, err, fmt.Sprint(ln.Addr()))
	c.Close()
}
