package wsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/avlink/avlink/signal"
)

// ErrConfig reports a URL or [DialOptions] that cannot work; [Dial] wraps
// it with what is wrong and what it expects instead.
var ErrConfig = errors.New("signal: invalid dial arguments")

// errNoAnswer is the cause of a handshake that ran out of time.
var errNoAnswer = errors.New("no WebSocket answer")

// wantURL says what Dial accepts.
const wantURL = "want ws://HOST[:PORT][/PATH], or wss:// for TLS"

// checkURL accepts ws:// and wss:// URLs with a host, and explains
// anything else.
func checkURL(raw, shown string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("%w: the signaling URL is empty; %s", ErrConfig, wantURL)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if s, _, found := strings.Cut(raw, ":"); !ok && found {
		switch strings.ToLower(s) {
		case "ws", "wss", "http", "https":
			return fmt.Errorf("%w: signaling URL %q is malformed (no // after %s:); %s", ErrConfig, shown, s, wantURL)
		}
	}
	if !ok {
		return fmt.Errorf("%w: signaling URL %q has no scheme; %s, e.g. %q",
			ErrConfig, shown, wantURL, "ws://"+strings.TrimPrefix(shown, "//"))
	}
	switch strings.ToLower(scheme) {
	case "ws", "wss":
	case "http":
		return fmt.Errorf("%w: signaling URL %q is http://, want ws:// (the server speaks WebSocket): try %q",
			ErrConfig, shown, "ws://"+redact(rest))
	case "https":
		return fmt.Errorf("%w: signaling URL %q is https://, want wss:// (the server speaks WebSocket): try %q",
			ErrConfig, shown, "wss://"+redact(rest))
	default:
		return fmt.Errorf("%w: signaling URL %q has scheme %q; %s", ErrConfig, shown, scheme, wantURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: signaling URL %q is malformed (%v); %s", ErrConfig, shown, err, wantURL)
	}
	if u.Host == "" {
		return fmt.Errorf("%w: signaling URL %q has no host; %s", ErrConfig, shown, wantURL)
	}
	return nil
}

// redact returns raw as typed but for the value of a "token" query
// parameter, which must not reach logs.
func redact(raw string) string {
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return raw
	}
	var b strings.Builder
	b.WriteString(raw[:q+1])
	query, frag, hasFrag := strings.Cut(raw[q+1:], "#")
	for i, kv := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		if k, _, ok := strings.Cut(kv, "="); ok && k == "token" {
			kv = k + "=REDACTED"
		}
		b.WriteString(kv)
	}
	if hasFrag {
		b.WriteString("#" + frag)
	}
	return b.String()
}

// dialError is a failed connection attempt, told with the URL as the
// caller typed it: the WebSocket library's own errors name the http://
// URL it turns a ws:// one into.
type dialError struct {
	shown string
	msg   string
	err   error
}

func (e *dialError) Error() string { return "signal: dial " + e.shown + ": " + e.msg }
func (e *dialError) Unwrap() error { return e.err }

// dialError explains why websocket.Dial of c.urls[i] failed: ctx is the
// caller's, hctx the attempt's, resp the server's answer if any.
func (c *Client) dialError(ctx, hctx context.Context, i int, resp *http.Response, err error) error {
	rawURL, shown := c.urls[i], c.shown[i]
	if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
		msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
		if why := bodyLine(resp); why != "" {
			msg += ": " + strings.TrimPrefix(why, signal.ErrUnauthorized.Error()+": ")
		}
		return fmt.Errorf("signal: dial %s: %w: %s", shown, signal.ErrUnauthorized, msg)
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		msg := fmt.Sprintf("HTTP %s instead of a WebSocket upgrade", resp.Status)
		if why := bodyLine(resp); why != "" {
			msg += " (" + why + ")"
		}
		return &dialError{shown: shown, msg: msg, err: err}
	}
	if ctx.Err() == nil && errors.Is(context.Cause(hctx), errNoAnswer) {
		host := shown
		if u, perr := url.Parse(rawURL); perr == nil {
			host = u.Host
		}
		return &dialError{
			shown: shown,
			msg:   fmt.Sprintf("%v from %s within %v", errNoAnswer, host, c.opts.HandshakeTimeout),
			err:   context.DeadlineExceeded,
		}
	}
	msg := strings.TrimPrefix(err.Error(), "failed to WebSocket dial: ")
	var ue *url.Error
	if errors.As(err, &ue) {
		// "Get "http://host/": dial tcp ...": the cause without the
		// rewritten URL.
		msg = ue.Err.Error()
	}
	if ctx.Err() != nil {
		msg = ctx.Err().Error()
	}
	return &dialError{shown: shown, msg: msg, err: err}
}

// bodyLine returns the first line of the refusal's body, which the
// WebSocket library has kept (up to 1 KiB).
func bodyLine(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(line)
}
