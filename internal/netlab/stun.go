package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v4"
)

// Mapping is what a LAN's NAT did with one socket of its host: the
// public address two STUN servers, at two ports of the public namespace,
// saw it at.
type Mapping struct {
	First, Second netip.AddrPort
}

// EndpointIndependent reports whether both servers saw the same address:
// a cone NAT. A symmetric NAT gives each destination its own port.
func (m Mapping) EndpointIndependent() bool { return m.First == m.Second }

func (m Mapping) String() string { return m.First.String() + " / " + m.Second.String() }

// STUN ports the probe answers on in the public namespace, beside the
// usual 3478 a TURN server there may hold.
const probePort1, probePort2 = 3901, 3902

// ProbeMapping asks two STUN servers, which it runs in the public
// namespace for the purpose, for the LAN host's public address from one
// socket, retrying for up to d.
func (lan *LAN) ProbeMapping(d time.Duration) (Mapping, error) {
	var servers []net.PacketConn
	defer func() {
		for _, s := range servers {
			s.Close()
		}
	}()
	for _, port := range []int{probePort1, probePort2} {
		var pc net.PacketConn
		err := lan.lab.Public.Do(func() (err error) {
			pc, err = net.ListenPacket("udp4", netip.AddrPortFrom(PublicIP, uint16(port)).String())
			return err
		})
		if err != nil {
			return Mapping{}, err
		}
		servers = append(servers, pc)
		go serveSTUN(pc)
	}
	var c net.PacketConn
	if err := lan.Host.Do(func() (err error) {
		c, err = net.ListenPacket("udp4", "0.0.0.0:0")
		return err
	}); err != nil {
		return Mapping{}, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var m Mapping
	var err error
	if m.First, err = stunBinding(ctx, c, probePort1); err != nil {
		return m, err
	}
	if m.Second, err = stunBinding(ctx, c, probePort2); err != nil {
		return m, err
	}
	return m, nil
}

// stunBinding sends binding requests from c to PublicIP:port until one is
// answered or ctx ends, and returns the mapped address.
func stunBinding(ctx context.Context, c net.PacketConn, port int) (netip.AddrPort, error) {
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(PublicIP, uint16(port)))
	buf := make([]byte, 1500)
	for {
		req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
		if err != nil {
			return netip.AddrPort{}, err
		}
		if _, err := c.WriteTo(req.Raw, to); err != nil {
			return netip.AddrPort{}, fmt.Errorf("netlab: STUN to %v: %w", to, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				break // resend
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if res.Decode() != nil || res.TransactionID != req.TransactionID {
				continue
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(res); err != nil {
				return netip.AddrPort{}, fmt.Errorf("netlab: STUN answer from %v: %w", to, err)
			}
			ip, _ := netip.AddrFromSlice(xor.IP)
			return netip.AddrPortFrom(ip.Unmap(), uint16(xor.Port)), nil
		}
		if ctx.Err() != nil {
			return netip.AddrPort{}, fmt.Errorf("netlab: no STUN answer from %v: %w", to, ctx.Err())
		}
	}
}

// serveSTUN answers binding requests on pc until it is closed.
func serveSTUN(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if req.Decode() != nil || req.Type != stun.BindingRequest {
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		res, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: ua.IP, Port: ua.Port}, stun.Fingerprint)
		if err == nil {
			_, _ = pc.WriteTo(res.Raw, from)
		}
	}
}
