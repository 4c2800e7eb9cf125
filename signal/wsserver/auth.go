package wsserver

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/avlink/avlink/signal"
)

// authorize checks the token and the origin before the upgrade. It
// returns a metric reason with the error.
func (s *Server) authorize(r *http.Request) (string, error) {
	if s.cfg.Token != "" {
		got := r.URL.Query().Get("token")
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			got = strings.TrimPrefix(h, "Bearer ")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
			return "token", fmt.Errorf("%w: missing or wrong token", signal.ErrUnauthorized)
		}
	}
	origin := r.Header.Get("Origin")
	if origin == "" || s.originAllowed(origin, r.Host) {
		return "", nil
	}
	return "origin", fmt.Errorf("%w: origin %q not allowed", signal.ErrUnauthorized, origin)
}

func (s *Server) originAllowed(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, pat := range s.cfg.AllowedOrigins {
		if pat == "*" {
			return true
		}
		if ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(u.Host)); ok {
			return true
		}
		if ok, _ := path.Match(strings.ToLower(pat), strings.ToLower(h)); ok {
			return true
		}
	}
	return false
}
