package rtclink

import (
	"strings"
)

// fixSDP repairs what real peers send that would otherwise make pion
// refuse the whole description. aiortc's audio+video offers give one
// RTP header-extension id to two different extensions in different
// m-sections; under BUNDLE ids are shared, so the later mapping is
// dropped (the extension is optional, the media is not).
func fixSDP(sdp string) string {
	if !strings.Contains(sdp, "a=extmap:") {
		return sdp
	}
	lines := strings.SplitAfter(sdp, "\n")
	seen := map[string]string{} // id -> uri
	out := make([]string, 0, len(lines))
	changed := false
	for _, ln := range lines {
		body := strings.TrimRight(ln, "\r\n")
		if rest, ok := strings.CutPrefix(body, "a=extmap:"); ok {
			idDir, uriEtc, _ := strings.Cut(rest, " ")
			id, _, _ := strings.Cut(idDir, "/")
			uri, _, _ := strings.Cut(uriEtc, " ")
			if prev, dup := seen[id]; dup && prev != uri {
				changed = true
				continue
			}
			seen[id] = uri
		}
		out = append(out, ln)
	}
	if !changed {
		return sdp
	}
	return strings.Join(out, "")
}
