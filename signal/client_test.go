package signal

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientExchangesTypedMessages(t *testing.T) {
	_, url := startServer(t, ServerConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := Dial(ctx, url, "robot", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer a.Close()
	m, err := a.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, TypeJoined, m.Type)
	assert.Equal(t, m.ID, a.ID())

	b, err := Dial(ctx, url, "robot", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	defer b.Close()
	m, err = b.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID()}, m.Peers)

	mid, idx := "0", uint16(0)
	cand := &Candidate{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", SDPMid: &mid, SDPMLineIndex: &idx}
	require.NoError(t, b.Send(ctx, Message{Type: TypeCandidate, Candidate: cand}))
	for {
		m, err = a.Recv(ctx)
		require.NoError(t, err)
		if m.Type == TypeCandidate {
			break
		}
	}
	assert.Equal(t, cand, m.Candidate)
	assert.Equal(t, b.ID(), m.Sender)
	assert.Contains(t, string(m.Raw), `"sdpMLineIndex":0`)
}

func TestClientReconnectsAfterServerRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	serve := func(ln net.Listener) (*Server, *http.Server) {
		s, err := NewServer(ServerConfig{Logger: quietLogger()})
		require.NoError(t, err)
		hs := &http.Server{Handler: s.Handler()}
		go hs.Serve(ln)
		return s, hs
	}
	stop := func(s *Server, hs *http.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Close()
		s.Close(ctx)
	}
	s1, hs1 := serve(ln)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := &DialOptions{Logger: quietLogger(), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	a, err := Dial(ctx, "ws://"+addr, "r", opts)
	require.NoError(t, err)
	defer a.Close()
	_, err = a.Recv(ctx) // joined
	require.NoError(t, err)
	id := a.ID()
	require.NotEmpty(t, id)

	stop(s1, hs1)
	// Restart on the same address.
	var ln2 net.Listener
	for range 100 {
		if ln2, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err)
	s2, hs2 := serve(ln2)
	defer stop(s2, hs2)

	var gotReconnect, gotJoined bool
	for !(gotReconnect && gotJoined) {
		m, err := a.Recv(ctx)
		require.NoError(t, err)
		gotReconnect = gotReconnect || m.Type == TypeReconnected
		gotJoined = gotJoined || (gotReconnect && m.Type == TypeJoined && m.Room == "r")
	}
	assert.Equal(t, id, a.ID(), "the client resumed its id")
	// The rejoined client is in its room again.
	b, err := Dial(ctx, "ws://"+addr, "r", opts)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, b.Send(ctx, Message{Type: TypeOffer, SDP: "after-restart"}))
	for {
		m, err := a.Recv(ctx)
		require.NoError(t, err)
		if m.Type == TypeOffer {
			assert.Equal(t, "after-restart", m.SDP)
			break
		}
	}
}

func TestClientCloseIsIdempotentAndEndsRecv(t *testing.T) {
	_, url := startServer(t, ServerConfig{})
	ctx := context.Background()
	a, err := Dial(ctx, url, "r", &DialOptions{Logger: quietLogger()})
	require.NoError(t, err)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	for {
		_, err = a.Recv(ctx)
		if err != nil {
			break
		}
	}
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, a.Send(ctx, Message{Type: TypeOffer}), ErrClosed)
}

func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = Dial(ctx, "ws://"+addr, "r", nil)
	assert.Error(t, err)
}
