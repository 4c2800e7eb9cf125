//go:build !linux

package blackhole

import "testing"

// TCP skips the test: only Linux is known to drop SYNs to a full listen
// queue.
func TCP(t testing.TB) int {
	t.Skip("a silently dropping TCP port is made on Linux only")
	return 0
}
