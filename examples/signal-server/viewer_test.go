package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve runs the command with args on 127.0.0.1:0 until the test ends
// and returns its address and log.
func serve(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), logs, func(a net.Addr) { addrc <- a })
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case a := <-addrc:
		return a.String(), logs
	case err := <-done:
		t.Fatalf("run ended: %v\n%s", err, logs.String())
		return "", nil
	}
}

// pinned is an HTTPS client that trusts only the certificate with the
// SHA-256 fingerprint fp, as a person does who compares the fingerprint
// the server printed with the one the browser shows.
func pinned(fp string) *http.Client {
	cfg := &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // verified below, by fingerprint
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			sum := sha256.Sum256(raw[0])
			got := strings.ToUpper(fmt.Sprintf("% x", sum[:]))
			if strings.ReplaceAll(got, " ", ":") != fp {
				return errors.New("fingerprint mismatch")
			}
			return nil
		},
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

func getBody(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func join(t *testing.T, url string, c *http.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: c})
	require.NoError(t, err, url)
	defer ws.CloseNow()
	require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(`{"type":"join","room":"r"}`)))
	_, data, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"joined"`, url)
	ws.Close(websocket.StatusNormalClosure, "")
}

// The page and the WebSocket share "/", over plain HTTP and, with a
// self-signed certificate, over HTTPS on the same port.
func TestViewerPageAndTLS(t *testing.T) {
	addr, logs := serve(t, "-tls-self-signed", "127.0.0.1,localhost", "-ping-interval", "1m")
	m := regexp.MustCompile(`sha256=((?:[0-9A-F]{2}:){31}[0-9A-F]{2})`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, "no fingerprint in the log:\n%s", logs.String())
	assert.Contains(t, logs.String(), `url="https://127.0.0.1:`)
	https := pinned(m[1])

	for _, tc := range []struct {
		base string
		c    *http.Client
	}{{"http://" + addr, http.DefaultClient}, {"https://" + addr, https}} {
		code, body := getBody(t, tc.c, tc.base+"/?room=realsense")
		assert.Equal(t, http.StatusOK, code, tc.base)
		assert.Contains(t, body, "avlink viewer", tc.base)
		code, body = getBody(t, tc.c, tc.base+"/ice-servers")
		assert.Equal(t, http.StatusOK, code)
		assert.JSONEq(t, `{"iceServers":[]}`, body)
		code, _ = getBody(t, tc.c, tc.base+"/healthz")
		assert.Equal(t, http.StatusOK, code)
	}
	join(t, "ws://"+addr+"/", nil)
	join(t, "wss://"+addr+"/", https)

	// A client that trusts the system's roots refuses the certificate.
	_, err := http.Get("https://" + addr + "/")
	require.Error(t, err)
}

// The self-signed certificate is kept in -tls-cert and -tls-key: a
// restart serves the same one, so a browser that accepted it still does.
func TestSelfSignedKeptInFiles(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	args := []string{"-tls-self-signed", "robot.local,127.0.0.1", "-tls-cert", cert, "-tls-key", key}
	fp := regexp.MustCompile(`how="?([^"]+?)"? sha256=(\S+)`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve nothing: start, log, stop
	var first syncBuffer
	require.NoError(t, run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), &first, nil))
	m1 := fp.FindStringSubmatch(first.String())
	require.NotNil(t, m1, first.String())
	assert.Equal(t, "self-signed, made now", m1[1])
	st, err := os.Stat(key)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the key is private")

	var second syncBuffer
	require.NoError(t, run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), &second, nil))
	m2 := fp.FindStringSubmatch(second.String())
	require.NotNil(t, m2, second.String())
	assert.Equal(t, "loaded", m2[1])
	assert.Equal(t, m1[2], m2[2], "the same certificate")
}

// With a TURN secret, /ice-servers carries a minted credential; static
// servers from -ice come first.
func TestICEServersFlags(t *testing.T) {
	addr, _ := serve(t, "-ice", "stun:stun.example.com:3478", "-turn-secret", "s3cret",
		"-turn-url", "turn:turn.example.com:3478,turn:turn.example.com:3478?transport=tcp", "-turn-ttl", "10m", "-token", "tk")
	code, _ := getBody(t, http.DefaultClient, "http://"+addr+"/ice-servers")
	assert.Equal(t, http.StatusForbidden, code, "the token guards the credentials")
	code, body := getBody(t, http.DefaultClient, "http://"+addr+"/ice-servers?token=tk")
	require.Equal(t, http.StatusOK, code)
	var cfg struct {
		ICEServers []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"iceServers"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &cfg))
	require.Len(t, cfg.ICEServers, 2)
	assert.Equal(t, []string{"stun:stun.example.com:3478"}, cfg.ICEServers[0].URLs)
	assert.Equal(t, []string{"turn:turn.example.com:3478", "turn:turn.example.com:3478?transport=tcp"}, cfg.ICEServers[1].URLs)
	assert.Regexp(t, `^\d+:avlink$`, cfg.ICEServers[1].Username)
	assert.NotEmpty(t, cfg.ICEServers[1].Credential)
	code, _ = getBody(t, http.DefaultClient, "http://"+addr+"/")
	assert.Equal(t, http.StatusOK, code, "the page needs no token")
}

// -no-viewer keeps the old plain answer on "/".
func TestNoViewer(t *testing.T) {
	addr, _ := serve(t, "-no-viewer")
	_, body := getBody(t, http.DefaultClient, "http://"+addr+"/")
	assert.Contains(t, body, "connect with a WebSocket")
	_, body = getBody(t, http.DefaultClient, "http://"+addr+"/ice-servers")
	assert.NotContains(t, body, "iceServers")
}

func TestViewerFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-turn-secret", "s"},
		{"-turn-url", "turn:h:3478"},
		{"-turn-secret", "s", "-turn-url", "turn:h:3478", "-turn-ttl", "0s"},
		{"-turn-secret", "s", "-turn-url", "http://h"},
		{"-ice", "h:3478"},
		{"-tls-cert", "c.pem"},
		{"-tls-self-signed", ","},
		{"-tls-cert", "/nonexistent/c.pem", "-tls-key", "/nonexistent/k.pem"},
	} {
		var out syncBuffer
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), &out, nil)
		assert.Error(t, err, "%v", args)
	}
}
