package turnsrv

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestParseConfOriginalDeployment reads the original deployment's coturn
// configuration (with documentation addresses) plus a few extra lines.
func TestParseConfOriginalDeployment(t *testing.T) {
	fh, err := os.Open("testdata/turnserver.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fh.Close() }()
	f, err := ParseConf(fh)
	if err != nil {
		t.Fatal(err)
	}
	lan := netip.MustParseAddr("10.0.0.5")
	want := Config{
		ListeningPort:    3478,
		TLSListeningPort: 5349,
		Fingerprint:      true,
		ListeningIPs:     []netip.Addr{lan},
		Realm:            "203.0.113.10",
		RelayIPs:         []netip.Addr{lan},
		ExternalIPs:      []ExternalIP{{Public: netip.MustParseAddr("203.0.113.10"), Private: lan}},
		Users:            map[string]string{"robot": "s3cret", "viewer": "an0ther:with:colons"},
		MinPort:          49152,
		MaxPort:          65535,
		NoTLS:            true,
		DeniedPeers:      []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		AllowedPeers:     []netip.Prefix{netip.MustParsePrefix("10.0.0.7/32")},
	}
	if !reflect.DeepEqual(f.Config, want) {
		t.Fatalf("Config =\n%+v\nwant\n%+v", f.Config, want)
	}
	if f.LogFile != "/var/log/turnserver.log" || !f.Verbose {
		t.Fatalf("LogFile %q Verbose %v", f.LogFile, f.Verbose)
	}
	if len(f.Warnings) != 1 || f.Warnings[0].Key != "stale-nonce" || f.Warnings[0].Line != 22 {
		t.Fatalf("warnings %v, want one naming stale-nonce on line 22", f.Warnings)
	}
	if got := f.Warnings[0].String(); !strings.Contains(got, "stale-nonce") {
		t.Fatalf("warning text %q", got)
	}
	if !reflect.DeepEqual(f.Ignored, []string{"stale-nonce"}) {
		t.Fatalf("Ignored = %q", f.Ignored)
	}
}

// TestConfIgnoredKeys reads settings a real turnserver.conf carries for
// coturn's own process: they are accepted, and reported on one log line.
func TestConfIgnoredKeys(t *testing.T) {
	const conf = `# coturn's process settings
listening-port=3478
no-cli
simple-log
verbose
log-file=/var/log/turnserver.log
pidfile="/run/turnserver/turnserver.pid"
proc-user=turnserver
no-stdout-log
user=old:0x0123456789abcdef
new-log-timestamp
no-dtls
no-multicast-peers
pidfile=/var/run/turnserver.pid
`
	f, err := ParseConf(strings.NewReader(conf))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"no-cli", "simple-log", "pidfile", "proc-user", "no-stdout-log", "new-log-timestamp"}
	if !reflect.DeepEqual(f.Ignored, want) {
		t.Fatalf("Ignored = %q, want %q", f.Ignored, want)
	}
	if !f.Verbose || f.LogFile != "/var/log/turnserver.log" || f.Config.ListeningPort != 3478 {
		t.Fatalf("applied settings lost: Verbose %v LogFile %q %+v", f.Verbose, f.LogFile, f.Config)
	}

	logs := &logBuffer{}
	f.LogWarnings(slog.New(slog.NewTextHandler(logs, nil)))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line for the ignored keys and one for the hashed key, got:\n%s", logs)
	}
	if !strings.Contains(lines[0], "level=WARN") ||
		!strings.Contains(lines[0], "keys=no-cli,simple-log,pidfile,proc-user,no-stdout-log,new-log-timestamp") {
		t.Fatalf("ignored keys line: %s", lines[0])
	}
	if !strings.Contains(lines[1], "hashed keys") {
		t.Fatalf("hashed key line: %s", lines[1])
	}

	// Nothing to report, nothing logged.
	f, err = ParseConf(strings.NewReader("listening-port=3478\nverbose\n"))
	if err != nil {
		t.Fatal(err)
	}
	logs = &logBuffer{}
	f.LogWarnings(slog.New(slog.NewTextHandler(logs, nil)))
	if logs.String() != "" {
		t.Fatalf("logged for a clean file:\n%s", logs)
	}
}

func TestParseConfErrors(t *testing.T) {
	for _, line := range []string{
		"listening-port=0",
		"listening-port=http",
		"min-port=70000",
		"external-ip=203.0.113.1/fe80::1",
		"external-ip=public",
		"relay-ip=10.0.0",
		"user=nopassword",
		"denied-peer-ip=10.0.0.9-10.0.0.1",
		"fingerprint=maybe",
		"user-quota=-1",
		"realm=",
	} {
		_, err := ParseConf(strings.NewReader("# header\n" + line + "\n"))
		if !errors.Is(err, ErrConfSyntax) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: err = %v, want ErrConfSyntax naming line 2", line, err)
		}
	}
}

func TestConfSetOverrides(t *testing.T) {
	f, err := ParseConf(strings.NewReader("listening-port=3478\nuser=a:b\n"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"listening-port": "3479", "user": "c:d", "allow-loopback-peers": ""} {
		if err := f.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if f.Config.ListeningPort != 3479 || len(f.Config.Users) != 2 || !f.Config.AllowLoopbackPeers {
		t.Fatalf("overrides not applied: %+v", f.Config)
	}
	if err := f.Set("max-port", "x"); !errors.Is(err, ErrConfSyntax) {
		t.Fatalf("bad override: %v", err)
	}
}

func TestRangePrefixes(t *testing.T) {
	for _, tc := range []struct {
		first, last string
		want        []string
	}{
		{"10.0.0.0", "10.255.255.255", []string{"10.0.0.0/8"}},
		{"10.0.0.1", "10.0.0.6", []string{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}},
		{"0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}},
		{"::1", "::1", []string{"::1/128"}},
	} {
		got := rangePrefixes(netip.MustParseAddr(tc.first), netip.MustParseAddr(tc.last))
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !reflect.DeepEqual(s, tc.want) {
			t.Errorf("%s-%s = %v, want %v", tc.first, tc.last, s, tc.want)
		}
	}
}

func FuzzParseConf(f *testing.F) {
	if seed, err := os.ReadFile("testdata/turnserver.conf"); err == nil {
		f.Add(string(seed))
	}
	for _, s := range []string{
		"", "#", "listening-port=3478", "external-ip=1.2.3.4/10.0.0.1", "user=a:b\nuser=c:0xabc",
		"denied-peer-ip=10.0.0.0-10.0.0.255", "allowed-peer-ip=::/0", "--verbose", "fingerprint false",
		"unknown-key=1", "realm=\"quoted realm\"", "min-port=2\nmax-port=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cf, err := ParseConf(strings.NewReader(text))
		if err != nil {
			if !errors.Is(err, ErrConfSyntax) {
				t.Fatalf("error %v does not wrap ErrConfSyntax", err)
			}
			return
		}
		for _, w := range cf.Warnings {
			if w.Key == "" && w.Line == 0 {
				t.Fatalf("warning without key or line: %+v", w)
			}
		}
		// Whatever parses must be checkable without panicking.
		cfg := cf.Config
		cfg.Logger = nil
		_, _ = cfg.withDefaults()
	})
}
