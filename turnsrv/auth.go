package turnsrv

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // coturn's REST scheme is defined with HMAC-SHA1.
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/turn/v5"
	"golang.org/x/time/rate"
)

// RESTCredentials mints a short-lived TURN credential in coturn's TURN REST
// API scheme (use-auth-secret): the username is "expiry:user" with expiry
// in Unix seconds, and the password is base64(HMAC-SHA1(secret, username)).
// A signaling server hands these to browsers instead of a fixed password;
// they work with turnsrv and with any coturn sharing the secret.
func RESTCredentials(secret, user string, ttl time.Duration, now time.Time) (username, password string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10)
	if user != "" {
		username += ":" + user
	}
	return username, restPassword(secret, username)
}

// restPassword is the password coturn expects for a REST username.
func restPassword(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// parseRESTUsername splits "expiry:user" (or a bare "expiry").
func parseRESTUsername(username string) (expiry time.Time, user string, err error) {
	ts, user, _ := strings.Cut(username, ":")
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: %q", errBadCredential, username)
	}
	return time.Unix(secs, 0), user, nil
}

// authenticator answers pion's AuthHandler from static users and REST
// secrets, and refuses client addresses that fail too often.
type authenticator struct {
	realm   string
	keys    map[string][]byte
	secret  string
	hasREST bool
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics

	perMinute int  // failures allowed per minute and address
	noLimit   bool // perMinute is not enforced
	mu        sync.Mutex
	failures  map[netip.Addr]*rate.Limiter
}

func newAuthenticator(cfg Config, m *metrics) *authenticator {
	a := &authenticator{
		realm:     cfg.Realm,
		keys:      make(map[string][]byte, len(cfg.Users)),
		now:       time.Now,
		log:       cfg.Logger,
		metrics:   m,
		perMinute: cfg.AuthFailures,
		noLimit:   cfg.NoAuthRateLimit,
		failures:  make(map[netip.Addr]*rate.Limiter),
	}
	for name, pass := range cfg.Users {
		a.keys[name] = turn.GenerateAuthKey(name, cfg.Realm, pass)
	}
	if len(cfg.AuthSecrets) > 0 {
		a.secret, a.hasREST = cfg.AuthSecrets[0], true
	}
	return a
}

// handle is the turn.AuthHandler. The returned user ID is the user part of
// a REST username, so quotas count a user across credential renewals.
func (a *authenticator) handle(ra *turn.RequestAttributes) (string, []byte, bool) {
	ip := addrIP(ra.SrcAddr)
	if a.limited(ip) {
		a.metrics.refusals.WithLabelValues(reasonAuthRateLimited).Inc()
		return "", nil, false
	}
	if a.hasREST {
		if expiry, user, err := parseRESTUsername(ra.Username); err == nil {
			if !a.now().Before(expiry) {
				a.fail(ra.SrcAddr, ra.Username, "expired credential")
				return "", nil, false
			}
			if user == "" {
				user = ra.Username
			}
			pass := restPassword(a.secret, ra.Username)
			return user, turn.GenerateAuthKey(ra.Username, a.realm, pass), true
		}
	}
	if key, ok := a.keys[ra.Username]; ok {
		return ra.Username, key, true
	}
	a.fail(ra.SrcAddr, ra.Username, "unknown user")
	return "", nil, false
}

// onAuth receives pion's verdict after the message integrity check, which
// is where a wrong password shows.
func (a *authenticator) onAuth(src, _ net.Addr, _, username, _, method string, verdict bool) {
	if !verdict {
		a.fail(src, username, "wrong password ("+method+")")
	}
}

// limited reports whether ip has used up its failure allowance.
func (a *authenticator) limited(ip netip.Addr) bool {
	if a.noLimit {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.failures[ip]
	return l != nil && l.TokensAt(a.now()) < 1
}

// fail counts and logs one authentication failure from src.
func (a *authenticator) fail(src net.Addr, username, why string) {
	a.metrics.authFailures.Inc()
	if a.noLimit {
		a.log.Warn("turn authentication failed", "client", src.String(), "user", username, "reason", why)
		return
	}
	ip := addrIP(src)
	now := a.now()
	a.mu.Lock()
	l := a.failures[ip]
	if l == nil {
		if len(a.failures) >= 4096 {
			a.pruneLocked(now)
		}
		l = rate.NewLimiter(rate.Limit(float64(a.perMinute)/60), a.perMinute)
		a.failures[ip] = l
	}
	l.AllowN(now, 1)
	exhausted := l.TokensAt(now) < 1
	a.mu.Unlock()
	a.log.Warn("turn authentication failed", "client", src.String(), "user", username, "reason", why)
	if exhausted {
		a.log.Warn("turn authentication rate-limited: refusing this address until failures age out",
			"client", ip.String(), "failures_per_minute", a.perMinute)
	}
}

// pruneLocked forgets addresses whose allowance has fully refilled.
func (a *authenticator) pruneLocked(now time.Time) {
	for ip, l := range a.failures {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(a.failures, ip)
		}
	}
}

// addrIP returns the IP of a UDP or TCP address, unmapped.
func addrIP(addr net.Addr) netip.Addr {
	var ip net.IP
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	default:
		if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
			return ap.Addr().Unmap()
		}
		return netip.Addr{}
	}
	out, _ := netip.AddrFromSlice(ip)
	return out.Unmap()
}
