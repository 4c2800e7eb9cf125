package wsserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/avlink/avlink/signal"
	"github.com/avlink/avlink/signal/wsclient"
)

// The exact messages of the original deployment's browser page and Python
// aiortc clients must arrive unchanged but for "sender".
func TestOriginalShapesForwardedUnchanged(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	ida := a.join("realsense")
	b.join("realsense")
	a.readType(signal.TypePeerJoined)

	shapes := []string{
		`{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`,
		`{"type":"answer","sdp":"v=0\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2130706431 192.168.1.2 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}`,
		`{"type":"candidate","candidate":{"candidate":"","sdpMid":null,"sdpMLineIndex":null,"usernameFragment":null}}`,
		`{"type":"custom-teleop","speed":0.5,"nested":{"x":[1,2,3]}}`,
		`{"no_type":true}`,
		`{}`,
	}
	for _, s := range shapes {
		a.send(s)
		got := b.readRaw()
		var want, have map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &want))
		require.NoError(t, json.Unmarshal(got, &have))
		want["sender"] = ida
		assert.Equal(t, want, have, "forwarded %s as %s", s, got)
		if len(s) > 2 {
			assert.True(t, strings.HasPrefix(string(got), s[:len(s)-1]), "original bytes kept: %s", got)
		}
	}
}

func TestSenderCannotBeSpoofed(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	ida := a.join("r")
	b.join("r")
	a.send(`{"type":"offer","sdp":"x","sender":"someone-else"}`)
	m := b.readType(signal.TypeOffer)
	assert.Equal(t, ida, m["sender"])
}

func TestRoomIsolation(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b, c := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
	a.join("realsense")
	b.join("realsense")
	c.join("audio")
	a.send(`{"type":"offer","sdp":"for-realsense"}`)
	assert.Equal(t, "for-realsense", b.readType(signal.TypeOffer)["sdp"])

	// c must see nothing of room realsense: the first thing it gets after
	// the offer is a message from its own room.
	d := dialRaw(t, url)
	d.join("audio")
	c.readType(signal.TypePeerJoined)
	d.send(`{"type":"offer","sdp":"for-audio"}`)
	m := c.readType(signal.TypeOffer)
	assert.Equal(t, "for-audio", m["sdp"], "the first offer c sees is from its own room: %v", m)
}

func TestDefaultRoomForClientsThatNeverJoin(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b, c := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
	c.join("elsewhere")
	a.send(`{"type":"offer","sdp":"hi"}`)
	m := b.readType(signal.TypeOffer)
	assert.Equal(t, "hi", m["sdp"])
	assert.NotEmpty(t, m["sender"])
	b.send(`{"type":"answer","sdp":"back"}`)
	assert.Equal(t, "back", a.readType(signal.TypeAnswer)["sdp"])
}

func TestJoinAndLeaveEvents(t *testing.T) {
	_, url := startServer(t, Config{})
	a := dialRaw(t, url)
	ida := a.join("r")
	b := dialRaw(t, url)
	b.send(`{"type":"join","room":"r"}`)
	// b's join is forwarded (as the original Node.js server did) and announced.
	joined := b.readType(signal.TypeJoined)
	idb := joined["id"].(string)
	assert.Equal(t, []any{ida}, joined["peers"])
	assert.NotEqual(t, ida, idb)
	ev := a.readType(signal.TypePeerJoined)
	assert.Equal(t, idb, ev["peer"])

	b.conn.Close(websocket.StatusNormalClosure, "")
	ev = a.readType(signal.TypePeerLeft)
	assert.Equal(t, idb, ev["peer"])
}

// The default room announces no arrivals, so it hears of a departure
// only from a peer that spoke there; a client that connects and goes
// straight to a named room leaves the default room silently.
func TestDefaultRoomDepartures(t *testing.T) {
	_, url := startServer(t, Config{})
	a := dialRaw(t, url) // stays in the default room, as the original clients do
	quiet := dialRaw(t, url)
	quiet.join("elsewhere")
	quiet.conn.Close(websocket.StatusNormalClosure, "")

	talker := dialRaw(t, url)
	talker.send(`{"type":"offer","sdp":"x"}`)
	offer := a.readType(signal.TypeOffer)
	talker.join("elsewhere")
	// The first departure a hears is the talker's: the quiet client's
	// join and close came before it and said nothing.
	left := a.read()
	assert.Equal(t, signal.TypePeerLeft, left["type"])
	assert.Equal(t, offer["sender"], left["peer"])
	assert.Empty(t, left["room"], "the default room has no name")

	talker2 := dialRaw(t, url)
	talker2.send(`{"type":"candidate","candidate":{}}`)
	cand := a.readType(signal.TypeCandidate)
	talker2.conn.Close(websocket.StatusNormalClosure, "")
	left = a.read()
	assert.Equal(t, signal.TypePeerLeft, left["type"])
	assert.Equal(t, cand["sender"], left["peer"])
}

func TestToReachesOnePeer(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b, c := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
	a.join("r")
	idb := b.join("r")
	c.join("r")
	a.send(`{"type":"offer","sdp":"only-b","to":"` + idb + `"}`)
	a.send(`{"type":"offer","sdp":"all"}`)
	assert.Equal(t, "only-b", b.readType(signal.TypeOffer)["sdp"])
	assert.Equal(t, "all", c.readType(signal.TypeOffer)["sdp"], "c must not get the addressed message")

	a.send(`{"type":"offer","sdp":"x","to":"nobody"}`)
	e := a.readType(signal.TypeError)
	assert.Equal(t, signal.CodeUnknownPeer, e["code"])
}

func TestInvalidJSONKeepsConnection(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.join("r")
	b.join("r")
	for _, bad := range []string{"not json", `{"type":`, `[1,2]`, `"str"`, ``} {
		a.send(bad)
		e := a.readType(signal.TypeError)
		assert.Equal(t, signal.CodeInvalidJSON, e["code"], "for %q", bad)
	}
	a.send(`{"type":"offer","sdp":"still-here"}`)
	assert.Equal(t, "still-here", b.readType(signal.TypeOffer)["sdp"])
}

func TestOversizeClosesOnlySender(t *testing.T) {
	_, url := startServer(t, Config{MaxMessageBytes: 1024})
	a, b, c := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
	a.join("r")
	b.join("r")
	c.join("r")
	a.send(`{"type":"offer","sdp":"` + strings.Repeat("x", 2000) + `"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	for err == nil {
		_, _, err = a.conn.Read(ctx)
	}
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "got %v", err)

	c.send(`{"type":"offer","sdp":"fine"}`)
	m := b.readType(signal.TypeOffer)
	assert.Equal(t, "fine", m["sdp"])
}

// A client that never reads must not delay anyone else.
func TestStuckReaderDoesNotBlockRoom(t *testing.T) {
	s, url := startServer(t, Config{NoRateLimit: true})
	stuck, sender, reader := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
	stuck.join("r")
	reader.join("r")
	sender.join("r")
	payload := strings.Repeat("c", 1000)
	const n = 6000 // ~6 MB: more than the stuck client's queue and socket buffers
	done := make(chan int)
	var got atomic.Int64
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for got.Load() < n {
			_, data, err := reader.conn.Read(ctx)
			if err != nil {
				break
			}
			if strings.Contains(string(data), `"candidate"`) {
				got.Add(1)
			}
		}
		done <- int(got.Load())
	}()
	for i := 0; i < n; i++ {
		// The reader reads as fast as it can, which on a loaded machine
		// can be slower than the sender sends: keep it within half its
		// queue, so that only the stuck client's queue overflows.
		for w := 0; int64(i)-got.Load() > 400 && w < 1000; w++ {
			time.Sleep(5 * time.Millisecond)
		}
		sender.send(`{"type":"candidate","candidate":{"candidate":"` + payload + `"}}`)
	}
	assert.Equal(t, n, <-done, "every message reached the reading client")
	s.mu.Lock()
	var stuckDropped int
	for p := range s.peers {
		p.mu.Lock()
		stuckDropped = max(stuckDropped, p.dropped)
		p.mu.Unlock()
	}
	s.mu.Unlock()
	assert.Positive(t, stuckDropped, "the stuck client's queue overflowed")
}

func TestStuckReaderIsDisconnected(t *testing.T) {
	s, url := startServer(t, Config{NoRateLimit: true, QueueBytes: 16 << 10, WriteTimeout: 100 * time.Millisecond})
	stuck, sender := dialRaw(t, url), dialRaw(t, url)
	stuck.join("r")
	sender.join("r")
	payload := strings.Repeat("c", 4000)
	// Keep sending until the server gives up on the stuck client; bounded.
	for i := 0; i < 20000 && s.count() == 2; i++ {
		sender.send(`{"type":"candidate","candidate":{"candidate":"` + payload + `"}}`)
		if i%200 == 199 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	assert.Equal(t, 1, s.count(), "stuck client disconnected")
}

func TestManyClientsManyRooms(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	_, url := startServer(t, Config{})
	const rooms, per = 100, 10
	clients := make([][]*wsclient.Client, rooms)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for r := range rooms {
		for range per {
			c, err := wsclient.Dial(ctx, url, fmt.Sprintf("room-%d", r), &wsclient.DialOptions{Logger: quietLogger()})
			require.NoError(t, err)
			clients[r] = append(clients[r], c)
		}
	}
	defer func() {
		for _, cs := range clients {
			for _, c := range cs {
				c.Close()
			}
		}
	}()
	// Wait until every join has been processed, so that every room is
	// complete before anyone sends.
	var wg sync.WaitGroup
	errs := make(chan error, rooms*per)
	for _, cs := range clients {
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					m, err := c.Recv(ctx)
					if err != nil {
						errs <- err
						return
					}
					if m.Type == signal.TypeJoined {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	for r, cs := range clients {
		for i, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.Send(ctx, signal.Message{Type: signal.TypeOffer, SDP: fmt.Sprintf("room-%d/%d", r, i)}); err != nil {
					errs <- err
					return
				}
				seen := map[string]bool{}
				for len(seen) < per-1 {
					m, err := c.Recv(ctx)
					if err != nil {
						errs <- fmt.Errorf("room %d client %d after %d: %w", r, i, len(seen), err)
						return
					}
					if m.Type != signal.TypeOffer {
						continue
					}
					if !strings.HasPrefix(m.SDP, fmt.Sprintf("room-%d/", r)) {
						errs <- fmt.Errorf("room %d got %q from another room", r, m.SDP)
						return
					}
					seen[m.SDP] = true
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRefusals(t *testing.T) {
	t.Run("origin", func(t *testing.T) {
		_, url := startServer(t, Config{})
		ctx := context.Background()
		_, err := wsclient.Dial(ctx, url, "r", &wsclient.DialOptions{Header: http.Header{"Origin": {"https://evil.example"}}})
		require.ErrorIs(t, err, signal.ErrUnauthorized)
		c, err := wsclient.Dial(ctx, url, "r", &wsclient.DialOptions{Header: http.Header{"Origin": {"http://localhost:8080"}}, Logger: quietLogger()})
		require.NoError(t, err)
		c.Close()
	})
	t.Run("allowed origin", func(t *testing.T) {
		_, url := startServer(t, Config{AllowedOrigins: []string{"*.example.com"}})
		c, err := wsclient.Dial(context.Background(), url, "r", &wsclient.DialOptions{Header: http.Header{"Origin": {"https://robot.example.com"}}, Logger: quietLogger()})
		require.NoError(t, err)
		c.Close()
	})
	t.Run("token", func(t *testing.T) {
		_, url := startServer(t, Config{Token: "s3cret"})
		ctx := context.Background()
		_, err := wsclient.Dial(ctx, url, "r", nil)
		require.ErrorIs(t, err, signal.ErrUnauthorized)
		_, err = wsclient.Dial(ctx, url, "r", &wsclient.DialOptions{Token: "wrong"})
		require.ErrorIs(t, err, signal.ErrUnauthorized)
		c, err := wsclient.Dial(ctx, url, "r", &wsclient.DialOptions{Token: "s3cret", Logger: quietLogger()})
		require.NoError(t, err)
		c.Close()
		c, err = wsclient.Dial(ctx, url+"/?token=s3cret", "r", &wsclient.DialOptions{Logger: quietLogger()})
		require.NoError(t, err)
		c.Close()
	})
	t.Run("room full", func(t *testing.T) {
		_, url := startServer(t, Config{MaxPeersPerRoom: 2})
		a, b, c := dialRaw(t, url), dialRaw(t, url), dialRaw(t, url)
		a.join("r")
		b.join("r")
		c.send(`{"type":"join","room":"r"}`)
		assert.Equal(t, signal.CodeRoomFull, c.readType(signal.TypeError)["code"])
		a.send(`{"type":"offer","sdp":"x"}`)
		assert.Equal(t, "x", b.readType(signal.TypeOffer)["sdp"])
	})
	t.Run("too many rooms", func(t *testing.T) {
		_, url := startServer(t, Config{MaxRooms: 1})
		a, b := dialRaw(t, url), dialRaw(t, url)
		a.join("one")
		b.send(`{"type":"join","room":"two"}`)
		assert.Equal(t, signal.CodeTooManyRooms, b.readType(signal.TypeError)["code"])
	})
	t.Run("rate", func(t *testing.T) {
		_, url := startServer(t, Config{MessagesPerSecond: 1, MessageBurst: 5})
		a := dialRaw(t, url)
		for range 20 {
			a.send(`{"type":"candidate","candidate":{"candidate":"x"}}`)
		}
		assert.Equal(t, signal.CodeRateLimited, a.readType(signal.TypeError)["code"])
	})
}

func TestPlainGETAndHealth(t *testing.T) {
	_, url := startServer(t, Config{})
	base := "http" + strings.TrimPrefix(url, "ws")
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "connect with a WebSocket")
	resp, err = http.Get(base + "/healthz")
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))
}

// /metrics serves the server's figures in the Prometheus text format,
// beside the Go runtime's.
func TestMetrics(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	a.join("r")                          // in 1
	b.join("r")                          // in 2
	a.send(`{"type":"offer","sdp":"m"}`) // in 3
	b.readType(signal.TypeOffer)
	a.send(`not json`) // in 4, refused
	a.readType(signal.TypeError)

	m := getMetrics(t, url)
	assert.Equal(t, 2.0, m["avlink_signal_connections"])
	assert.Equal(t, 1.0, m["avlink_signal_rooms"])
	assert.Equal(t, 4.0, m["avlink_signal_messages_in_total"])
	assert.Equal(t, 1.0, m[`avlink_signal_refusals_total{reason="invalid-json"}`])
	assert.Equal(t, 0.0, m["avlink_signal_drops_total"])
	assert.Equal(t, 0.0, m["avlink_signal_slow_disconnects_total"])
	assert.Contains(t, m, "go_goroutines", "the server's own registry carries the Go runtime's figures")
	// a got joined, peer-joined, b's join and the error; b got joined
	// and the offer: 6 written. A message is counted just after it is
	// written, so the last may not be counted yet when it arrives.
	out := m["avlink_signal_messages_out_total"]
	for i := 0; out < 6 && i < 200; i++ {
		time.Sleep(10 * time.Millisecond)
		out = getMetrics(t, url)["avlink_signal_messages_out_total"]
	}
	assert.Equal(t, 6.0, out)
}

// getMetrics reads the whole of /metrics.
func getMetrics(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return parseMetrics(t, string(body))
}

// parseMetrics reads the Prometheus text format into series -> value.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(t, i, "metric line %q", line)
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, "metric line %q", line)
		m[line[:i]] = v
	}
	return m
}

func TestResumeIDOnlyWhenFree(t *testing.T) {
	_, url := startServer(t, Config{})
	a, b := dialRaw(t, url), dialRaw(t, url)
	ida := a.join("r")
	b.send(`{"type":"join","room":"r","id":"` + ida + `"}`)
	idb := b.readType(signal.TypeJoined)["id"].(string)
	assert.NotEqual(t, ida, idb, "an id in use is not handed out twice")

	c := dialRaw(t, url)
	c.send(`{"type":"join","room":"r","id":"robot-1"}`)
	assert.Equal(t, "robot-1", c.readType(signal.TypeJoined)["id"])
	d := dialRaw(t, url)
	d.send(`{"type":"join","room":"r","id":"bad id with spaces"}`)
	assert.NotEqual(t, "bad id with spaces", d.readType(signal.TypeJoined)["id"])
	c.send(`{"type":"offer","sdp":"x"}`)
	assert.Equal(t, "robot-1", a.readType(signal.TypeOffer)["sender"])
}

// TestJoinReachesOnlyEarlierMembers has two peers join one room at the
// same moment, many times: the one that came second (its joined answer
// lists the other) must never hear the first one's join, before or after
// its own answer, and the first must hear the second's.
func TestJoinReachesOnlyEarlierMembers(t *testing.T) {
	_, url := startServer(t, Config{})
	// upTo reads c's messages until one of type stop and returns the
	// types seen before it.
	upTo := func(c *rawClient, stop string) (map[string]any, []any) {
		var seen []any
		for range 50 {
			m := c.read()
			if m["type"] == stop {
				return m, seen
			}
			seen = append(seen, m["type"])
		}
		t.Fatalf("no %q in 50 messages", stop)
		return nil, nil
	}
	for i := range 30 {
		room := fmt.Sprintf("race%d", i)
		a, b := dialRaw(t, url), dialRaw(t, url)
		a.send(`{"type":"join","room":"` + room + `"}`)
		b.send(`{"type":"join","room":"` + room + `"}`)
		ja, beforeA := upTo(a, signal.TypeJoined)
		_, beforeB := upTo(b, signal.TypeJoined)
		first, second, beforeSecond := a, b, beforeB
		if ja["peers"] != nil {
			first, second, beforeSecond = b, a, beforeA
		}
		first.send(`{"type":"mark"}`)
		second.send(`{"type":"mark"}`)
		_, afterSecond := upTo(second, "mark")
		assert.NotContains(t, append(beforeSecond, afterSecond...), signal.TypeJoin, "round %d: the later peer heard the earlier one's join", i)
		_, afterFirst := upTo(first, "mark")
		assert.Contains(t, afterFirst, signal.TypeJoin, "round %d: the earlier peer did not hear the later one's join", i)
		assert.Contains(t, afterFirst, signal.TypePeerJoined, "round %d", i)
	}
}

// A joiner learns the room's members in the order they joined, so a robot
// can offer to the newest (a restarted page) rather than a lingering one.
func TestJoinedListsPeersOldestFirst(t *testing.T) {
	_, url := startServer(t, Config{})
	var ids []string
	for range 5 {
		ids = append(ids, dialRaw(t, url).join("order"))
	}
	last := dialRaw(t, url)
	last.send(`{"type":"join","room":"order"}`)
	m := last.readType("joined")
	var got []string
	for _, p := range m["peers"].([]any) {
		got = append(got, p.(string))
	}
	require.Equal(t, ids, got)
}
