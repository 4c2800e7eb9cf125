package turntest

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/avlink/avlink/internal/syncbuf"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// Coturn is a real coturn turnserver process on 127.0.0.1.
type Coturn struct {
	Addr *net.UDPAddr
	cmd  *exec.Cmd
	out  *syncbuf.Buffer
}

// CoturnArgs are the settings of the original deployment's coturn server
// (turnsrv/testdata/turnserver.conf has them with documentation
// addresses), moved to loopback: listening and relay on 127.0.0.1
// (standing for the server's LAN address), the external-ip PUBLIC/PRIVATE
// form, long-term credentials, fingerprint, no multicast peers, no TLS or
// DTLS, verbose, plus allow-loopback-peers so that peers on 127.0.0.1 can
// be reached.
func CoturnArgs(port, minPort, maxPort int, dir string) []string {
	return []string{
		"-n", "--no-cli",
		"--listening-ip=127.0.0.1",
		"--listening-port=" + strconv.Itoa(port),
		"--relay-ip=127.0.0.1",
		"--external-ip=127.0.0.1/127.0.0.1",
		"--realm=" + Realm,
		"--lt-cred-mech",
		"--user=" + Username + ":" + Password,
		"--min-port=" + strconv.Itoa(minPort),
		"--max-port=" + strconv.Itoa(maxPort),
		"--fingerprint",
		"--no-multicast-peers",
		"--no-tls", "--no-dtls",
		"--verbose",
		"--log-file=stdout",
		"--allow-loopback-peers",
		"--userdb=" + filepath.Join(dir, "turndb"),
		"--pidfile=" + filepath.Join(dir, "turnserver.pid"),
	}
}

// StartCoturn starts turnserver with CoturnArgs on a free port and waits
// until it answers STUN. The test is skipped when turnserver is not
// installed (Debian package coturn).
func StartCoturn(tb testing.TB, extra ...string) *Coturn {
	tb.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		tb.Skip("coturn's turnserver is not installed (Debian package coturn); skipping the coturn interop test")
	}
	port := FreePort(tb)
	minPort := 20000 + port%20000
	args := append(CoturnArgs(port, minPort, minPort+199, tb.TempDir()), extra...)
	c := &Coturn{Addr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, out: &syncbuf.Buffer{}}
	c.cmd = exec.Command(bin, args...) //nolint:gosec // the test's own binary and arguments
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("start turnserver: %v", err)
	}
	tb.Cleanup(c.stop)
	if err := waitSTUN(c.Addr, 100); err != nil {
		tb.Fatalf("turnserver did not answer STUN: %v\n%s", err, c.out)
	}
	return c
}

// Output returns what turnserver logged so far.
func (c *Coturn) Output() string { return c.out.String() }

// ICEServers is the TURN-over-UDP URL of the coturn with the test user.
func (c *Coturn) ICEServers() []webrtc.ICEServer {
	return UDPICEServers(c.Addr, Username, Password)
}

func (c *Coturn) stop() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// FreePort returns a port free for both UDP and TCP on 127.0.0.1 at the
// time of the call.
func FreePort(tb testing.TB) int {
	tb.Helper()
	for range 20 {
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port //nolint:forcetypeassert // UDP
		t, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		_ = u.Close()
		if err == nil {
			_ = t.Close()
			return port
		}
	}
	tb.Fatal("no free port")
	return 0
}

// waitSTUN sends binding requests until one is answered.
func waitSTUN(addr *net.UDPAddr, tries int) error {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	buf := make([]byte, 1500)
	for range tries {
		req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
		if _, err := conn.WriteTo(req.Raw, addr); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _, err := conn.ReadFrom(buf); err == nil && stun.IsMessage(buf[:n]) {
			return nil
		}
	}
	return fmt.Errorf("no answer from %s", addr)
}
