package viewer

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // coturn's REST scheme is defined with HMAC-SHA1.
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avlink/avlink/signal/wsserver"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func get(t *testing.T, h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServesPage(t *testing.T) {
	v, err := New(Config{Logger: quiet()})
	require.NoError(t, err)
	for _, tc := range []struct{ path, typ, has string }{
		{"/", "text/html; charset=utf-8", `<script src="/viewer/viewer.js">`},
		{"/?room=realsense", "text/html; charset=utf-8", "avlink viewer"},
		{"/viewer/viewer.js", "text/javascript; charset=utf-8", "window.avlinkViewer"},
		{"/viewer/viewer.css", "text/css; charset=utf-8", ".layout"},
		{"/viewer/stamp.js", "text/javascript; charset=utf-8", "readStamp"},
	} {
		w := get(t, v, tc.path)
		assert.Equal(t, http.StatusOK, w.Code, tc.path)
		assert.Equal(t, tc.typ, w.Header().Get("Content-Type"), tc.path)
		assert.Contains(t, w.Body.String(), tc.has, tc.path)
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), tc.path)
	}
	csp := get(t, v, "/").Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'self'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.NotContains(t, csp, "http", "the page may reach no other host")

	for _, p := range []string{"/viewer/", "/viewer/index.html", "/favicon.ico", "/nope", "/viewer/missing.js"} {
		assert.Equal(t, http.StatusNotFound, get(t, v, p).Code, p)
	}
	w := httptest.NewRecorder()
	v.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
}

// The page's files name no other host: no script, style, font or
// address from elsewhere.
func TestPageAsksNoOtherHost(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:|wss?:)?//[a-z0-9.-]+`)
	err := fs.WalkDir(pageFS, "page", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pageFS.ReadFile(path)
		require.NoError(t, err)
		for _, ln := range strings.Split(string(b), "\n") {
			code := strings.TrimSpace(ln)
			if strings.HasPrefix(code, "//") || strings.HasPrefix(code, "<!--") {
				continue // a comment
			}
			for _, m := range url.FindAllString(code, -1) {
				// The only URLs the page builds are to its own host.
				if !strings.Contains(code, m+"' + location.host") && !strings.Contains(code, "'//' + location.host") {
					t.Errorf("%s names another host: %q in %q", path, m, code)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}

func iceAnswer(t *testing.T, w *httptest.ResponseRecorder) []ICEServer {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	var cfg struct {
		ICEServers []ICEServer `json:"iceServers"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &cfg))
	require.NotNil(t, cfg.ICEServers, "iceServers is a list, even when empty: %s", w.Body.String())
	return cfg.ICEServers
}

func TestICEServers(t *testing.T) {
	v, err := New(Config{})
	require.NoError(t, err)
	assert.Empty(t, iceAnswer(t, get(t, v, "/ice-servers")))

	stun := ICEServer{URLs: []string{"stun:stun.example.com:3478"}}
	v, err = New(Config{ICEServers: []ICEServer{stun}})
	require.NoError(t, err)
	assert.Equal(t, []ICEServer{stun}, iceAnswer(t, get(t, v, "/ice-servers")))
}

// With a shared secret, each answer carries a coturn-REST credential
// minted for it: "expiry:user" and base64(HMAC-SHA1(secret, username)).
func TestICEServersMintCredentials(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := now
	stun := ICEServer{URLs: []string{"stun:turn.example.com:3478"}}
	turnURLs := []string{"turn:turn.example.com:3478", "turn:turn.example.com:3478?transport=tcp"}
	v, err := New(Config{
		ICEServers: []ICEServer{stun},
		TURNSecret: "s3cret", TURNURLs: turnURLs, TURNUser: "viewer", TURNTTL: time.Hour,
		Now: func() time.Time { return clock },
	})
	require.NoError(t, err)
	got := iceAnswer(t, get(t, v, "/ice-servers"))
	require.Len(t, got, 2)
	assert.Equal(t, stun, got[0])
	turn := got[1]
	assert.Equal(t, turnURLs, turn.URLs)
	assert.Equal(t, strconv.FormatInt(now.Add(time.Hour).Unix(), 10)+":viewer", turn.Username)
	mac := hmac.New(sha1.New, []byte("s3cret"))
	mac.Write([]byte(turn.Username))
	assert.Equal(t, base64.StdEncoding.EncodeToString(mac.Sum(nil)), turn.Credential)

	clock = now.Add(time.Minute)
	later := iceAnswer(t, get(t, v, "/ice-servers"))[1]
	assert.NotEqual(t, turn.Username, later.Username, "a later request gets a credential of its own")

	// Defaults: 24 hours, user "avlink".
	v, err = New(Config{TURNSecret: "s", TURNURLs: turnURLs, Now: func() time.Time { return now }})
	require.NoError(t, err)
	assert.Equal(t, strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10)+":avlink", v.ICEServers()[0].Username)
}

func TestICEServersToken(t *testing.T) {
	v, err := New(Config{Token: "t0k", TURNSecret: "s", TURNURLs: []string{"turn:h:3478"}, Logger: quiet()})
	require.NoError(t, err)
	for _, w := range []*httptest.ResponseRecorder{
		get(t, v, "/ice-servers"),
		get(t, v, "/ice-servers?token=nope"),
		get(t, v, "/ice-servers", "Authorization", "Bearer nope"),
	} {
		assert.Equal(t, http.StatusForbidden, w.Code)
		assert.NotContains(t, w.Body.String(), "credential")
	}
	assert.Len(t, iceAnswer(t, get(t, v, "/ice-servers?token=t0k")), 1)
	assert.Len(t, iceAnswer(t, get(t, v, "/ice-servers", "Authorization", "Bearer t0k")), 1)
	assert.Equal(t, http.StatusOK, get(t, v, "/").Code, "the page itself needs no token")
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"secret without URLs": {TURNSecret: "s"},
		"negative TTL":        {TURNSecret: "s", TURNURLs: []string{"turn:h"}, TURNTTL: -time.Second},
		"http URL":            {ICEServers: []ICEServer{{URLs: []string{"http://h"}}}},
		"bare host":           {TURNSecret: "s", TURNURLs: []string{"h:3478"}},
		"empty scheme":        {ICEServers: []ICEServer{{URLs: []string{"stun:"}}}},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, name)
	}
}

// WithSignaling sends WebSocket upgrades to the signaling server and
// everything else to the page, on the same "/".
func TestWithSignaling(t *testing.T) {
	srv, err := wsserver.New(wsserver.Config{Logger: quiet()})
	require.NoError(t, err)
	defer srv.Close()
	v, err := New(Config{Logger: quiet()})
	require.NoError(t, err)
	hs := httptest.NewServer(v.WithSignaling(srv))
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(body), "avlink viewer")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"realsense"}`)))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(msg), `"type":"joined"`)
	c.Close(websocket.StatusNormalClosure, "")
}
