package viewer

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/avlink/avlink/capture/stamp"
	"github.com/avlink/avlink/turnsrv"
)

//go:embed page
var pageFS embed.FS

// ICEServer is one STUN or TURN server in the JSON shape an
// RTCPeerConnection takes (RTCIceServer), which is also pion's
// webrtc.ICEServer.
type ICEServer struct {
	// URLs are "stun:host:port", "turn:host:port?transport=udp" and the
	// like.
	URLs []string `json:"urls"`
	// Username and Credential authenticate to a TURN server; empty for
	// STUN.
	Username   string `json:"username,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// Config configures a [Viewer]. The zero value serves the page with no
// ICE servers (host candidates only, enough on one network); every field
// says what its zero value means.
type Config struct {
	// ICEServers are handed out as they are: STUN servers, and TURN
	// servers that need no per-request credential. Nil means none.
	ICEServers []ICEServer

	// TURNSecret, when set, is the shared secret of a TURN server run
	// with coturn's REST API scheme (coturn's use-auth-secret and
	// static-auth-secret, or turnsrv.Config.AuthSecrets): each answer of
	// /ice-servers adds TURNURLs with a credential minted for that
	// request by turnsrv.RESTCredentials, so no password is ever in the
	// page. Empty means no minted credentials.
	TURNSecret string
	// TURNURLs are the TURN server's URLs ("turn:turn.example.com:3478",
	// "turn:turn.example.com:3478?transport=tcp"). Required with
	// TURNSecret, ignored without it.
	TURNURLs []string
	// TURNUser is the user part of the minted usernames
	// ("expiry:TURNUser"), what the TURN server's quotas and logs count.
	// Empty means "avlink".
	TURNUser string
	// TURNTTL is how long a minted credential stays valid. A TURN server
	// checks it on every request, allocation refreshes included, so it
	// bounds how long a relayed call that starts with it can last, and
	// how long a robot program that fetched it at start may keep making
	// calls through the relay. 0 means 24 hours, as the TURN REST
	// scheme recommends.
	TURNTTL time.Duration
	// Now is the clock credentials are minted by. Nil means time.Now.
	Now func() time.Time

	// Token, when set, must be presented to /ice-servers, as
	// "Authorization: Bearer <token>" or as the query parameter "token",
	// as to the signaling server (wsserver.Config.Token): a stranger gets
	// 403 and no TURN credential. The page passes on the token of its own
	// URL (/?room=realsense&token=...). Empty means none is needed. The
	// page itself is served to anyone.
	Token string

	// Logger receives refused requests. Nil means slog.Default().
	Logger *slog.Logger
}

// Viewer is the viewer page and its /ice-servers endpoint, an
// http.Handler to mount on "/" of the signaling server's origin (see
// [Viewer.WithSignaling]). It serves:
//
//   - "/": the page (index.html), for a plain GET; its script and style
//     under "/viewer/";
//   - "/ice-servers": the RTCConfiguration JSON the page and the robot
//     programs build their peer connections with,
//     {"iceServers":[{"urls":[...],"username":...,"credential":...}]};
//
// and 404 for any other path. It starts no goroutines and holds nothing
// to release.
type Viewer struct {
	cfg    Config
	log    *slog.Logger
	files  http.Handler
	index  []byte
	stamp  []byte
	static []byte // the ICE servers' JSON when nothing is minted
}

// New checks cfg and returns the Viewer. An error wraps [ErrConfig] when
// cfg cannot work.
func New(cfg Config) (*Viewer, error) {
	if cfg.TURNSecret != "" && len(cfg.TURNURLs) == 0 {
		return nil, fmt.Errorf("%w: TURNSecret is set but TURNURLs is empty", ErrConfig)
	}
	if cfg.TURNTTL < 0 {
		return nil, fmt.Errorf("%w: TURNTTL is negative", ErrConfig)
	}
	for _, s := range append(append([]ICEServer(nil), cfg.ICEServers...), ICEServer{URLs: cfg.TURNURLs}) {
		for _, u := range s.URLs {
			if !validICEURL(u) {
				return nil, fmt.Errorf("%w: ICE server URL %q is not stun:, stuns:, turn: or turns:", ErrConfig, u)
			}
		}
	}
	if cfg.TURNSecret == "" {
		cfg.TURNURLs = nil
	}
	if cfg.TURNUser == "" {
		cfg.TURNUser = "avlink"
	}
	if cfg.TURNTTL == 0 {
		cfg.TURNTTL = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sub, err := fs.Sub(pageFS, "page")
	if err != nil {
		return nil, err
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		return nil, err
	}
	v := &Viewer{
		cfg:   cfg,
		log:   cfg.Logger,
		files: http.StripPrefix("/viewer/", http.FileServerFS(sub)),
		index: index,
		stamp: stamp.JS(),
	}
	if v.log == nil {
		v.log = slog.Default()
	}
	if cfg.TURNSecret == "" {
		v.static = v.iceJSON()
	}
	return v, nil
}

func validICEURL(u string) bool {
	for _, p := range []string{"stun:", "stuns:", "turn:", "turns:"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return true
		}
	}
	return false
}

// ICEServers returns the servers an answer of /ice-servers lists now: the
// configured ones, then the TURN URLs with a freshly minted credential.
func (v *Viewer) ICEServers() []ICEServer {
	out := make([]ICEServer, 0, len(v.cfg.ICEServers)+1)
	for _, s := range v.cfg.ICEServers {
		s.URLs = append([]string(nil), s.URLs...)
		out = append(out, s)
	}
	if v.cfg.TURNSecret != "" {
		user, pass := turnsrv.RESTCredentials(v.cfg.TURNSecret, v.cfg.TURNUser, v.cfg.TURNTTL, v.cfg.Now())
		out = append(out, ICEServer{URLs: append([]string(nil), v.cfg.TURNURLs...), Username: user, Credential: pass})
	}
	return out
}

func (v *Viewer) iceJSON() []byte {
	b, err := json.Marshal(struct {
		ICEServers []ICEServer `json:"iceServers"`
	}{v.ICEServers()})
	if err != nil {
		panic(err) // strings and slices of strings always marshal
	}
	return append(b, '\n')
}

// ServeHTTP serves the page, its files and /ice-servers.
func (v *Viewer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	switch p := r.URL.Path; {
	case p == "/" || p == "/index.html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		// Everything comes from this origin: the page asks no other host.
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Permissions-Policy", "microphone=(self), camera=()")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(v.index))
	case p == "/ice-servers":
		v.serveICE(w, r)
	case p == "/viewer/stamp.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "stamp.js", time.Time{}, bytes.NewReader(v.stamp))
	case strings.HasPrefix(p, "/viewer/") && p != "/viewer/index.html" && !strings.HasSuffix(p, "/"):
		h.Set("Cache-Control", "no-cache")
		v.files.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (v *Viewer) serveICE(w http.ResponseWriter, r *http.Request) {
	if v.cfg.Token != "" {
		got := r.URL.Query().Get("token")
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
			got = strings.TrimPrefix(a, "Bearer ")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(v.cfg.Token)) != 1 {
			v.log.Warn("viewer: /ice-servers refused: wrong or missing token", "remote", r.RemoteAddr)
			http.Error(w, "wrong or missing token", http.StatusForbidden)
			return
		}
	}
	body := v.static
	if body == nil {
		body = v.iceJSON()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// Each answer may carry a credential of its own: never reuse one.
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// WithSignaling returns the handler for "/" of a signaling server that
// shows the page: WebSocket upgrades (any request with an Upgrade header)
// go to ws, the signaling server (a *wsserver.Server), so that every
// client that dials ws://host:port/ keeps working, and every other
// request goes to the Viewer.
func (v *Viewer) WithSignaling(ws http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			ws.ServeHTTP(w, r)
			return
		}
		v.ServeHTTP(w, r)
	})
}
