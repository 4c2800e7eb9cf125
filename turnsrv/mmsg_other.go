//go:build !linux

package turnsrv

import (
	"net"
	"sync"
)

// mmsgReader is Linux only; elsewhere relay sockets are read one datagram
// at a time.
type mmsgReader struct{}

func newMMsgReader(*net.UDPConn, *sync.Pool, func()) *mmsgReader { return nil }

func newSlotPool() *sync.Pool { return nil }

func (*mmsgReader) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, net.ErrClosed }

// mmsgWriter is Linux only; elsewhere every datagram is its own write.
type mmsgWriter struct{}

func newMMsgWriter(*net.UDPConn) *mmsgWriter { return nil }

func (*mmsgWriter) queue([]byte, net.Addr) bool { return false }

func (*mmsgWriter) queueChannel(uint16, []byte, *net.UDPAddr) bool { return false }

func (*mmsgWriter) flush() {}

// udpSender is Linux only; elsewhere relay sockets write the ordinary way.
type udpSender struct{}

func newUDPSender(*net.UDPConn) *udpSender { return nil }

func (*udpSender) writeTo([]byte, net.Addr) (int, bool, error) { return 0, false, nil }
