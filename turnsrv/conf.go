package turnsrv

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ConfFile is a coturn-style configuration read by ParseConf: the server
// Config plus the settings that belong to the program running it.
type ConfFile struct {
	// Config holds the server settings read, ready for New; fields the
	// file does not set are zero, so New applies the usual defaults.
	Config Config
	// LogFile is log-file: a path, or "stdout"/"-" for standard output.
	LogFile string
	// Verbose is verbose: log at debug level.
	Verbose bool
	// Warnings lists lines that were understood but ignored, or not
	// understood (unknown keys), in file order.
	Warnings []ConfWarning
	// Ignored lists the keys accepted without effect, each once, in the
	// order first met: unknown keys (each also a warning) and coturn
	// settings of coturn's own process or of what this server does not
	// offer (no-cli, simple-log, no-stdout-log, no-tcp-relay). A real
	// turnserver.conf carries several, so they are accepted, and
	// LogWarnings reports them on one line.
	Ignored []string
}

// LogWarnings reports on log, at Warn level, what the configuration did
// not apply: the Ignored keys on one line, then a line for each warning
// about something else, such as a user with a hashed key.
func (f *ConfFile) LogWarnings(log *slog.Logger) {
	if len(f.Ignored) > 0 {
		log.Warn("configuration keys ignored", "keys", strings.Join(f.Ignored, ","))
	}
	for _, w := range f.Warnings {
		if !slices.Contains(f.Ignored, w.Key) {
			log.Warn("configuration setting ignored", "where", w.String())
		}
	}
}

// ConfWarning is a configuration line that was not applied.
type ConfWarning struct {
	// Line is the line number, from 1; 0 for a setting given to Set.
	Line int
	// Key is the configuration key, such as "stale-nonce".
	Key string
	// Msg says why the line was not applied.
	Msg string
}

// String formats the warning with its line, as the log shows it.
func (w ConfWarning) String() string {
	if w.Line == 0 {
		return fmt.Sprintf("%s: %s", w.Key, w.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", w.Line, w.Key, w.Msg)
}

// maxConfLine bounds one configuration line.
const maxConfLine = 64 << 10

// ParseConf reads the subset of coturn's turnserver.conf that maps onto
// Config: listening-port, tls-listening-port, listening-ip, relay-ip,
// external-ip (PUBLIC or PUBLIC/PRIVATE), realm, lt-cred-mech, user,
// use-auth-secret, static-auth-secret, min-port, max-port, fingerprint,
// no-udp, no-tcp, no-tls, no-dtls, no-multicast-peers,
// allow-loopback-peers, allowed-peer-ip, denied-peer-ip, cert, pkey,
// user-quota, total-quota, max-bps, prometheus, prometheus-port, verbose
// and log-file. Lines are "key=value" or a bare "key" for flags; '#'
// starts a comment line. Unknown keys are accepted and listed in Ignored,
// with a warning naming each line; a known key with a bad value is an
// error wrapping ErrConfSyntax.
func ParseConf(r io.Reader) (*ConfFile, error) {
	f := &ConfFile{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxConfLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "--")
		key, value, _ := strings.Cut(line, "=")
		if k, v, ok := strings.Cut(key, " "); ok && !strings.Contains(line, "=") {
			key, value = k, v
		}
		key = strings.ToLower(strings.TrimSpace(key))
		value = unquote(strings.TrimSpace(value))
		if err := f.set(n, key, value); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfSyntax, err)
	}
	return f, nil
}

// Set applies one setting as if it were a file line, for command-line
// flags that override the file. Repeatable keys (user, listening-ip...)
// add to what the file gave.
func (f *ConfFile) Set(key, value string) error {
	return f.set(0, strings.ToLower(key), value)
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

// set applies key=value from line n.
func (f *ConfFile) set(n int, key, value string) error { //nolint:gocyclo,cyclop // one case per key
	c := &f.Config
	bad := func(why string) error {
		if n == 0 {
			return fmt.Errorf("%w: %s=%q: %s", ErrConfSyntax, key, value, why)
		}
		return fmt.Errorf("%w: line %d: %s=%q: %s", ErrConfSyntax, n, key, value, why)
	}
	warn := func(msg string) { f.Warnings = append(f.Warnings, ConfWarning{Line: n, Key: key, Msg: msg}) }
	port := func(dst *int) error {
		p, err := strconv.Atoi(value)
		if err != nil || p < 1 || p > 65535 {
			return bad("want a port number 1-65535")
		}
		*dst = p
		return nil
	}
	count := func(dst *int) error {
		v, err := strconv.Atoi(value)
		if err != nil || v < 0 {
			return bad("want a non-negative number")
		}
		*dst = v
		return nil
	}
	addr := func() (netip.Addr, error) {
		a, err := netip.ParseAddr(value)
		if err != nil {
			return a, bad("want an IP address")
		}
		return a, nil
	}
	switch key {
	case "listening-port":
		return port(&c.ListeningPort)
	case "tls-listening-port":
		return port(&c.TLSListeningPort)
	case "min-port":
		return port(&c.MinPort)
	case "max-port":
		return port(&c.MaxPort)
	case "listening-ip":
		a, err := addr()
		c.ListeningIPs = append(c.ListeningIPs, a)
		return err
	case "relay-ip":
		a, err := addr()
		c.RelayIPs = append(c.RelayIPs, a)
		return err
	case "external-ip":
		pub, priv, hasPriv := strings.Cut(value, "/")
		e := ExternalIP{}
		var err error
		if e.Public, err = netip.ParseAddr(strings.TrimSpace(pub)); err != nil {
			return bad("want PUBLIC or PUBLIC/PRIVATE addresses")
		}
		if hasPriv {
			if e.Private, err = netip.ParseAddr(strings.TrimSpace(priv)); err != nil || e.Private.Is4() != e.Public.Is4() {
				return bad("want PUBLIC/PRIVATE addresses of one family")
			}
		}
		c.ExternalIPs = append(c.ExternalIPs, e)
	case "realm":
		if value == "" {
			return bad("empty realm")
		}
		c.Realm = value
	case "user":
		name, pass, ok := strings.Cut(value, ":")
		if !ok || name == "" {
			return bad("want user=name:password")
		}
		if strings.HasPrefix(pass, "0x") {
			warn("hashed keys (0x...) are not supported; user " + name + " ignored")
			return nil
		}
		if c.Users == nil {
			c.Users = map[string]string{}
		}
		c.Users[name] = pass
	case "static-auth-secret":
		if value == "" {
			return bad("empty secret")
		}
		c.AuthSecrets = append(c.AuthSecrets, value)
		if len(c.AuthSecrets) > 1 {
			warn("only the first static-auth-secret is used")
		}
	case "use-auth-secret", "lt-cred-mech":
		// Implied: users and secrets are used when given.
	case "allowed-peer-ip", "denied-peer-ip":
		ps, err := parsePeerRange(value)
		if err != nil {
			return bad(err.Error())
		}
		if key == "allowed-peer-ip" {
			c.AllowedPeers = append(c.AllowedPeers, ps...)
		} else {
			c.DeniedPeers = append(c.DeniedPeers, ps...)
		}
	case "cert":
		c.CertFile = value
	case "pkey":
		c.KeyFile = value
	case "user-quota":
		return count(&c.UserQuota)
	case "total-quota":
		return count(&c.TotalQuota)
	case "max-bps":
		v, err := strconv.ParseInt(value, 10, 64)
		if err != nil || v < 0 {
			return bad("want bytes per second")
		}
		c.MaxBPS = v
	case "prometheus":
		if c.HTTPAddr == "" {
			c.HTTPAddr = ":9641"
		}
	case "prometheus-port":
		p := 0
		if err := port(&p); err != nil {
			return err
		}
		c.HTTPAddr = ":" + strconv.Itoa(p)
	case "log-file":
		f.LogFile = value
	default:
		return f.setFlag(n, key, value, warn)
	}
	return nil
}

// setFlag handles the keys that take no value.
func (f *ConfFile) setFlag(n int, key, value string, warn func(string)) error {
	c := &f.Config
	flags := map[string]*bool{
		"fingerprint": &c.Fingerprint, "no-udp": &c.NoUDP, "no-tcp": &c.NoTCP, "no-tls": &c.NoTLS,
		"allow-loopback-peers": &c.AllowLoopbackPeers, "verbose": &f.Verbose, "v": &f.Verbose,
	}
	// DTLS is not served and multicast peers are always refused unless
	// allowed by allowed-peer-ip, so those two hold as they are. The
	// others concern coturn's own process or TCP relays, which stay on.
	var ignored bool
	switch key {
	case "no-dtls", "no-multicast-peers":
		flags[key] = &ignored
	case "no-cli", "no-stdout-log", "simple-log", "no-tcp-relay":
		flags[key] = &ignored
		f.ignore(key)
	}
	dst, known := flags[key]
	if !known {
		f.ignore(key)
		warn("unknown key, ignored")
		return nil
	}
	on := true
	if value != "" {
		b, err := strconv.ParseBool(value)
		if err != nil {
			if n == 0 {
				return fmt.Errorf("%w: %s=%q: want a boolean", ErrConfSyntax, key, value)
			}
			return fmt.Errorf("%w: line %d: %s=%q: want a boolean", ErrConfSyntax, n, key, value)
		}
		on = b
	}
	*dst = on
	return nil
}

// ignore adds key to Ignored once.
func (f *ConfFile) ignore(key string) {
	if !slices.Contains(f.Ignored, key) {
		f.Ignored = append(f.Ignored, key)
	}
}

// parsePeerRange reads coturn's peer address syntax: one address, a range
// "first-last", or (an extension) a CIDR prefix.
func parsePeerRange(v string) ([]netip.Prefix, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return []netip.Prefix{p.Masked()}, nil
	}
	first, last, isRange := strings.Cut(v, "-")
	a, err := netip.ParseAddr(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("want an address, first-last range or prefix")
	}
	if !isRange {
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
	}
	b, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil || a.Is4() != b.Is4() || b.Less(a) {
		return nil, fmt.Errorf("want first-last with first <= last in one family")
	}
	return rangePrefixes(a, b), nil
}

// rangePrefixes returns the fewest prefixes covering [a, b].
func rangePrefixes(a, b netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for {
		bits := a.BitLen()
		// Widen while the prefix still starts at a and ends within b.
		for bits > 0 {
			p := netip.PrefixFrom(a, bits-1)
			if p.Masked().Addr() != a || b.Less(lastAddr(p)) {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(a, bits)
		out = append(out, p)
		end := lastAddr(p)
		if end == b || !end.Next().IsValid() {
			return out
		}
		a = end.Next()
	}
}

// lastAddr is the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
