package tune

import (
	"os"
	"syscall"
)

// Reexec re-executes the program once, before it does anything else, with
// two settings that cut what a robot's sender or receiver costs:
//
//   - GODEBUG=schedtrace=2147483647. The Go runtime's monitor thread
//     sleeps deeply while every goroutine waits, but the next system or
//     cgo call wakes it to poll every 20 µs for as long as any goroutine
//     runs (golang/go#18236). A media program wakes 80 times a second
//     and runs a millisecond or two each time, mostly in libvpx and
//     libopus, so the monitor woke about 1,100 times a second. With a
//     scheduler trace asked for, the monitor never sleeps deeply and
//     settles at one wake every 10 ms. The trace itself comes only when
//     the machine has been up 24.8 days, and then every 24.8 days.
//   - GLIBC_TUNABLES=glibc.malloc.hugetlb=1, so that libvpx's set-up
//     touches a few huge pages instead of some 2,000 small ones.
//
// A value the user set for either is kept; AVLINK_TUNE=off skips both,
// for a debugger for example. When the re-execution fails, the program
// goes on untuned.
func Reexec() {
	env, changed := Env(os.Environ())
	if !changed {
		return
	}
	// /proc/self/exe still names the program when its file is gone.
	_ = syscall.Exec("/proc/self/exe", os.Args, env)
}
