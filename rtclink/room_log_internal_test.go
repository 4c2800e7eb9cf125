package rtclink

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avlink/avlink/signal/wsclient"
	"github.com/avlink/avlink/signal/wsserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A session says which room it joined, as which id and with how many
// others, and keeps saying it is alone while nobody comes: a wrong room
// name shows in the log. Once a peer is there it no longer says alone.
func TestJoinedAndAloneLogs(t *testing.T) {
	url := roomServer(t)
	first := &recordHandler{store: &logStore{}}
	s1, err := New(Config{Signaler: dialRoom(t, url, "lab"), Logger: slog.New(first), aloneEvery: 20 * time.Millisecond})
	require.NoError(t, err)
	defer s1.Close()

	joined := first.wait(t, "rtclink: joined room", 0)
	assert.Equal(t, "lab", joined.attrs["room"])
	assert.NotEmpty(t, joined.attrs["id"])
	assert.Equal(t, "0", joined.attrs["other_peers"])
	alone := first.wait(t, "rtclink: still alone in room", 0)
	assert.Equal(t, "lab", alone.attrs["room"])
	assert.Equal(t, joined.attrs["id"], alone.attrs["id"])
	assert.Equal(t, slog.LevelInfo, alone.level)

	second := &recordHandler{store: &logStore{}}
	s2, err := New(Config{Signaler: dialRoom(t, url, "lab"), Logger: slog.New(second), aloneEvery: 20 * time.Millisecond})
	require.NoError(t, err)
	defer s2.Close()
	j2 := second.wait(t, "rtclink: joined room", 0)
	assert.Equal(t, "lab", j2.attrs["room"])
	assert.Equal(t, "1", j2.attrs["other_peers"])
	assert.NotEqual(t, joined.attrs["id"], j2.attrs["id"])

	// Neither side offers, so both keep waiting, but not alone.
	came := first.index(t, "rtclink: peer joined the room")
	first.wait(t, "rtclink: still waiting for a peer", came)
	second.wait(t, "rtclink: still waiting for a peer", 0)
	isAlone := func(r logRecord) bool { return r.msg == "rtclink: still alone in room" }
	assert.False(t, slices.ContainsFunc(first.records()[came:], isAlone), "alone after a peer came")
	assert.False(t, slices.ContainsFunc(second.records(), isAlone), "alone with a peer in the room")
}

// roomServer runs the signaling server until the test ends and returns
// its ws:// URL.
func roomServer(t *testing.T) string {
	srv, err := wsserver.New(wsserver.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func dialRoom(t *testing.T, url, room string) *wsclient.Client {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, url, room, &wsclient.DialOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// logRecord is one logged message with its attributes, those of its
// logger included, as strings.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// recordHandler is a slog.Handler that keeps every record at info and
// above in its store, which the handlers made by WithAttrs share.
type recordHandler struct {
	store *logStore
	attrs []slog.Attr
}

type logStore struct {
	mu   sync.Mutex
	recs []logRecord
}

func (h *recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.store.mu.Lock()
	h.store.recs = append(h.store.recs, rec)
	h.store.mu.Unlock()
	return nil
}

func (h *recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordHandler{store: h.store, attrs: append(slices.Clip(h.attrs), as...)}
}

// WithGroup is not needed by the session's logs: groups are flattened.
func (h *recordHandler) WithGroup(string) slog.Handler { return h }

func (h *recordHandler) records() []logRecord {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return slices.Clone(h.store.recs)
}

// index waits for the first record with msg and returns its position.
func (h *recordHandler) index(t *testing.T, msg string) int {
	t.Helper()
	i := -1
	require.Eventually(t, func() bool {
		i = slices.IndexFunc(h.records(), func(r logRecord) bool { return r.msg == msg })
		return i >= 0
	}, 10*time.Second, 10*time.Millisecond, "no log %q", msg)
	return i
}

// wait waits for a record with msg at or after position from and returns
// it.
func (h *recordHandler) wait(t *testing.T, msg string, from int) logRecord {
	t.Helper()
	var got logRecord
	require.Eventually(t, func() bool {
		recs := h.records()
		if from > len(recs) {
			return false
		}
		i := slices.IndexFunc(recs[from:], func(r logRecord) bool { return r.msg == msg })
		if i < 0 {
			return false
		}
		got = recs[from+i]
		return true
	}, 10*time.Second, 10*time.Millisecond, "no log %q", msg)
	return got
}
