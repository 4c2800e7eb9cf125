// Package tune starts the example programs with the runtime and C
// library settings that suit a media program on a small computer: see
// [Reexec].
package tune

import "strings"

// OffEnv names the variable that, set to "off", keeps [Reexec] from
// re-executing the program.
const OffEnv = "AVLINK_TUNE"

// schedtraceNever keeps the Go runtime's monitor thread out of its deep
// sleep (see [Reexec]) while asking for a scheduler trace only every 24.8
// days, the longest period GODEBUG takes.
const schedtraceNever = "schedtrace=2147483647"

// hugeMalloc has glibc ask for transparent huge pages for its large
// blocks, such as the 7 MB of tokens and the frame buffers libvpx
// allocates and zeroes when an encoder is set up.
const hugeMalloc = "glibc.malloc.hugetlb=1"

// settings are what [Env] adds: each a key=value entry of a variable
// whose entries are separated by sep.
var settings = []struct{ variable, sep, entry string }{
	{"GODEBUG", ",", schedtraceNever},
	{"GLIBC_TUNABLES", ":", hugeMalloc},
}

// Env returns env with the settings [Reexec] adds, and whether it
// added any, for starting another program tuned. A setting the user
// made, to any value, is left as it is; with AVLINK_TUNE=off in env it
// returns env unchanged.
func Env(env []string) ([]string, bool) {
	out := make([]string, 0, len(env)+len(settings))
	seen := make([]bool, len(settings))
	changed := false
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == OffEnv && v == "off" {
			return env, false
		}
		for i, st := range settings {
			if k != st.variable {
				continue
			}
			seen[i] = true
			if key, _, _ := strings.Cut(st.entry, "="); !hasKey(v, st.sep, key) {
				if v != "" {
					kv += st.sep
				}
				kv, changed = kv+st.entry, true
			}
		}
		out = append(out, kv)
	}
	for i, st := range settings {
		if !seen[i] {
			out, changed = append(out, st.variable+"="+st.entry), true
		}
	}
	return out, changed
}

func hasKey(list, sep, key string) bool {
	for _, s := range strings.Split(list, sep) {
		if k, _, _ := strings.Cut(s, "="); strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}
