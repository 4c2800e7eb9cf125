package turnsrv

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var uclientTotals = regexp.MustCompile(`tot_send_msgs=(\d+), tot_recv_msgs=(\d+)`)

// runUclient runs coturn's turnutils_uclient against a server and returns
// the messages it sent and received back through the relays.
func runUclient(t *testing.T, args ...string) (sent, recv int) {
	t.Helper()
	bin, err := exec.LookPath("turnutils_uclient")
	if err != nil {
		t.Skip("turnutils_uclient is not installed (Debian package coturn)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("turnutils_uclient %v: %v\n%s", args, err, out)
	}
	m := uclientTotals.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no totals in turnutils_uclient output:\n%s", out)
	}
	last := m[len(m)-1]
	sent, _ = strconv.Atoi(string(last[1]))
	recv, _ = strconv.Atoi(string(last[2]))
	return sent, recv
}

// TestCoturnClient runs coturn's own test client against turnsrv: its
// default client-to-client mode with RTP/RTCP relay pairs (EVEN-PORT and
// RESERVATION-TOKEN), with long-term and with REST credentials, over UDP
// and TCP.
func TestCoturnClient(t *testing.T) {
	const secret = "rest-secret"
	s, _ := startServer(t, func(c *Config) {
		c.AllowLoopbackPeers = true
		c.AuthSecrets = []string{secret}
	})
	for _, tc := range []struct {
		name string
		args []string
		port string
	}{
		{"long-term UDP", []string{"-u", testUser, "-w", testPass}, portOf(s.Addrs().UDP[0])},
		{"REST UDP", []string{"-u", "browser", "-W", secret}, portOf(s.Addrs().UDP[0])},
		{"long-term TCP", []string{"-t", "-u", testUser, "-w", testPass}, portOf(s.Addrs().TCP[0])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append(append([]string{}, tc.args...), "-y", "-n", "10", "-m", "2", "-l", "170", "-p", tc.port, "127.0.0.1")
			sent, recv := runUclient(t, args...)
			if sent == 0 || recv != sent {
				t.Fatalf("sent %d messages, received %d", sent, recv)
			}
		})
	}
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// TestCoturnClientRefusedPeer runs coturn's test client towards peers on
// loopback, which the server refuses by default: its ChannelBind must be
// answered 403 Forbidden, as coturn answers it, not 401.
func TestCoturnClientRefusedPeer(t *testing.T) {
	bin, err := exec.LookPath("turnutils_uclient")
	if err != nil {
		t.Skip("turnutils_uclient is not installed (Debian package coturn)")
	}
	s, _ := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args := []string{"-y", "-n", "1", "-m", "1", "-l", "170", "-u", testUser, "-w", testPass,
		"-p", portOf(s.Addrs().UDP[0]), "127.0.0.1"}
	// It exits with an error status once its channel is refused.
	out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if !strings.Contains(string(out), "channel bind: error 403") || strings.Contains(string(out), "error 401") {
		t.Fatalf("turnutils_uclient %v, want its channel bind refused with 403:\n%s", args, out)
	}
}
