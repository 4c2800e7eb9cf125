package rtclink

import (
	"context"
	"net"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// tcpDialTimeout bounds the dial to a TURN server over TCP or TLS. pion
// dials with no timeout, so a firewall that silently drops TCP to the
// TURN port would hold candidate gathering, and the Close that waits for
// it, for the system's SYN retries: about two minutes on Linux. A TURN
// server that answers does so within a few round trips.
const tcpDialTimeout = 5 * time.Second

// boundedDialNet is the host's network with TCP dials that give up after
// timeout, or at once when ctx (the session's) ends.
type boundedDialNet struct {
	*stdnet.Net
	ctx     context.Context
	timeout time.Duration
}

// hostNet returns the network for a session whose Config.Net is nil.
func hostNet(ctx context.Context) (transport.Net, error) {
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return boundedDialNet{Net: n, ctx: ctx, timeout: tcpDialTimeout}, nil
}

// DialTCP dials as net.DialTCP does, within the timeout.
func (n boundedDialNet) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	d := net.Dialer{Timeout: n.timeout}
	if laddr != nil {
		d.LocalAddr = laddr
	}
	c, err := d.DialContext(n.ctx, network, raddr.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}
