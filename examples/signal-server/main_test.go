package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/internal/natstest"
)

// syncBuffer is the server's log, written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The command serves WebSockets, health and metrics, and on its signal
// (ctx done) closes its clients with 1001 and returns nil.
func TestServeAndShutDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-no-rate-limit", "-ping-interval", "1m"}, &logs, func(a net.Addr) { addrc <- a })
	}()
	var addr string
	select {
	case a := <-addrc:
		addr = a.String()
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
	}

	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	c, _, err := websocket.Dial(dctx, "ws://"+addr, nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.Write(dctx, websocket.MessageText, []byte(`{"type":"join","room":"r"}`)))
	_, data, err := c.Read(dctx)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"joined"`)

	cancel() // SIGINT
	for err == nil {
		_, _, err = c.Read(dctx)
	}
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "got %v", err)
	require.NoError(t, <-done)
	assert.Contains(t, logs.String(), "shutting down")
}

func TestFlags(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &out, nil)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "-no-rate-limit")
	assert.Contains(t, out.String(), "-disable-pings")

	for _, args := range [][]string{{"-rate", "-1"}, {"-burst", "-1"}, {"-ping-interval", "-1s"}} {
		err := run(context.Background(), args, &out, nil)
		require.Error(t, err, "%v", args)
		assert.True(t, strings.Contains(err.Error(), "-no-rate-limit") || strings.Contains(err.Error(), "-disable-pings"), "%v: %v", args, err)
	}
	err = run(context.Background(), []string{"-bogus"}, &out, nil)
	var bad badFlags
	assert.ErrorAs(t, err, &bad)
}

// Two servers on one NATS share a room.
func TestNATSRoomAcrossTwoServers(t *testing.T) {
	ns := natstest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var addrs []string
	var dones []chan error
	for range 2 {
		var logs syncBuffer
		addrc := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-no-viewer", "-nats", ns.ClientURL(), "-nats-prefix", "t"}, &logs, func(a net.Addr) { addrc <- a })
		}()
		select {
		case a := <-addrc:
			addrs = append(addrs, a.String())
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, logs.String())
		}
		dones = append(dones, done)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	var conns []*websocket.Conn
	for _, addr := range addrs {
		c, _, err := websocket.Dial(dctx, "ws://"+addr, nil)
		require.NoError(t, err)
		defer c.CloseNow()
		require.NoError(t, c.Write(dctx, websocket.MessageText, []byte(`{"type":"join","room":"r"}`)))
		_, data, err := c.Read(dctx)
		require.NoError(t, err)
		require.Contains(t, string(data), `"joined"`)
		conns = append(conns, c)
	}
	_, data, err := conns[0].Read(dctx)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"peer-joined"`, "a peer on the other server")

	cancel()
	for _, done := range dones {
		require.NoError(t, <-done)
	}
}

func TestNATSFlags(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"-nats-creds", "x.creds"}, {"-nats", "nats://127.0.0.1:1", "-nats-cert", "c.pem"}} {
		err := run(context.Background(), args, &out, nil)
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), "-nats", "%v", args)
	}
	err := run(context.Background(), []string{"-h"}, &out, nil)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "-nats-creds")
}
