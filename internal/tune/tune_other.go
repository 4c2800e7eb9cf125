//go:build !linux

package tune

// Reexec does nothing outside Linux; see the Linux version.
func Reexec() {}
