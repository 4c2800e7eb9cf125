package wsserver

import (
	"crypto/sha1" //nolint:gosec // RFC 6455 fixes SHA-1 for the accept key
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// websocketGUID is the GUID RFC 6455 appends to the client's key.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errUpgrade is a request that is not a valid WebSocket upgrade; the
// response has already said why.
var errUpgrade = errors.New("signal: not a valid websocket upgrade")

// checkUpgrade checks an opening handshake (RFC 6455 section 4.2.1) and
// returns the Sec-WebSocket-Accept value, or writes the error response.
func checkUpgrade(w http.ResponseWriter, r *http.Request) (string, error) {
	fail := func(code int, msg string) (string, error) {
		http.Error(w, msg, code)
		return "", errors.Join(errUpgrade, errors.New(msg))
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return fail(http.StatusMethodNotAllowed, "a websocket upgrade is a GET")
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return fail(http.StatusBadRequest, "missing Connection: Upgrade or Upgrade: websocket")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return fail(http.StatusUpgradeRequired, "unsupported websocket version (want 13)")
	}
	key := strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key"))
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return fail(http.StatusBadRequest, "bad Sec-WebSocket-Key")
	}
	return acceptKey(key), nil
}

// acceptKey is the Sec-WebSocket-Accept value for a client's key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID)) //nolint:gosec // fixed by RFC 6455
	return base64.StdEncoding.EncodeToString(h[:])
}

// headerHasToken reports whether a comma-separated header has token, in
// any case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// hijack takes the connection over from net/http after checkUpgrade and
// sends the 101 response, with the extra headers of h. No extension or
// subprotocol is agreed.
func hijack(w http.ResponseWriter, accept string, h http.Header, pool *bufPool) (*batchConn, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "websocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	b.WriteString(accept)
	b.WriteString("\r\n")
	_ = h.Write(&b)
	b.WriteString("\r\n")
	if _, err := nc.Write([]byte(b.String())); err != nil {
		_ = nc.Close()
		return nil, err
	}
	// Bytes the client sent right after its request are already in
	// net/http's reader: batchConn serves them first.
	leftover, _ := brw.Reader.Peek(brw.Reader.Buffered())
	return newBatchConn(nc, pool, leftover), nil
}
