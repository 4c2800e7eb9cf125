//go:build !linux

package audiodev

// quiet does nothing: only PortAudio's Linux host libraries print
// diagnostics of their own.
func quiet() {}
