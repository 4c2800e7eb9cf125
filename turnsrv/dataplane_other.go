//go:build !linux

package turnsrv

import (
	"errors"
	"log/slog"
	"net/netip"
	"syscall"
)

// dataPlane is Linux only; elsewhere pion reads every socket itself.
type dataPlane struct{}

type dpSocket struct {
	raw   syscall.RawConn
	relay *relayConn
	lis   *fanInConn
	local netip.AddrPort
	slow  *slowQueue
}

var errNoDataPlane = errors.New("turnsrv: no data plane on this system")

func newDataPlane(*fastTable, *metrics, func(), *slog.Logger) (*dataPlane, error) {
	return nil, errNoDataPlane
}

func (*dataPlane) add(*dpSocket) error { return errNoDataPlane }

func (*dataPlane) remove(*dpSocket) {}

func (*dataPlane) close() {}
