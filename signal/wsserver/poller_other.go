//go:build !linux

package wsserver

import "errors"

// poller is Linux's only: elsewhere an idle connection keeps a goroutine
// waiting in Go's network poller.
type poller struct{}

func newPoller(func(*peer)) (*poller, error) {
	return nil, errors.New("signal: no connection poller on this system")
}

func (*poller) add(int, *peer) error { return errors.New("signal: no connection poller") }
func (*poller) remove(int) bool      { return false }
func (*poller) close()               {}
