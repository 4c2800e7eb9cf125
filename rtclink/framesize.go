package rtclink

import (
	"fmt"
	"strings"
	"sync"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
)

// A sender announces each video track's picture size in its SDP with
// 3GPP's a=framesize:<payload type> <width>-<height> (TS 26.234), which
// peers that do not know it ignore. A receiver then sets its decoder up
// for that size while the call connects (playback.SizePreparer), instead
// of on the first frame.
const frameSizeAttr = "a=framesize:"

// frameSize is one announced size: of track, sent as codec mime.
type frameSize struct {
	track, mime string
	w, h        int
}

// sizer is a video source that knows its picture size ahead.
type sizer interface{ Size() (width, height int) }

// frameSizes returns the sizes of the session's video tracks whose source
// knows it.
func (s *PeerSession) frameSizes() []frameSize {
	var out []frameSize
	for _, v := range s.videos {
		src, ok := v.cfg.Source.(sizer)
		if !ok || v.cfg.Samples != nil {
			continue
		}
		if w, h := src.Size(); w > 0 && h > 0 {
			out = append(out, frameSize{track: v.tr.track.ID(), mime: v.tr.track.Codec().MimeType, w: w, h: h})
		}
	}
	return out
}

// addFrameSizes returns sdp with an a=framesize line for each size, in
// the video section that sends its track, after its codec's rtpmap.
func addFrameSizes(sdp string, sizes []frameSize) string {
	if len(sizes) == 0 {
		return sdp
	}
	var out strings.Builder
	for _, sec := range sections(strings.SplitAfter(sdp, "\n")) {
		after, add := "", ""
		for _, fs := range sizes {
			if pt, ok := sec.payloadType(fs.mime); ok && fs.track == sec.track() {
				after = fmt.Sprintf("a=rtpmap:%d ", pt)
				add = fmt.Sprintf("%s%d %d-%d\r\n", frameSizeAttr, pt, fs.w, fs.h)
			}
		}
		for _, l := range sec.lines {
			out.WriteString(l)
			if add != "" && strings.HasPrefix(l, after) {
				out.WriteString(add)
				add = ""
			}
		}
	}
	return out.String()
}

// announcedSizes reads the a=framesize lines of sdp's video sections.
func announcedSizes(sdp string) []frameSize {
	var out []frameSize
	for _, sec := range sections(strings.SplitAfter(sdp, "\n")) {
		if !sec.video {
			continue
		}
		id := sec.track()
		for _, l := range sec.lines {
			l = strings.TrimSpace(l)
			if !strings.HasPrefix(l, frameSizeAttr) {
				continue
			}
			var pt, w, h int
			if n, _ := fmt.Sscanf(l[len(frameSizeAttr):], "%d %d-%d", &pt, &w, &h); n != 3 || w <= 0 || h <= 0 || w > 16383 || h > 16383 {
				continue
			}
			if mime := sec.mimeOf(pt); mime != "" {
				out = append(out, frameSize{track: id, mime: mime, w: w, h: h})
			}
		}
	}
	return out
}

// section is the lines of one SDP media section (or the session part).
type section struct {
	lines []string
	video bool
}

func sections(lines []string) []section {
	var out []section
	cur := section{}
	for _, l := range lines {
		if strings.HasPrefix(l, "m=") {
			out = append(out, cur)
			cur = section{video: strings.HasPrefix(l, "m=video ")}
		}
		cur.lines = append(cur.lines, l)
	}
	return append(out, cur)
}

// track returns the track id of a video section's a=msid, or "".
func (s section) track() string {
	if !s.video {
		return ""
	}
	for _, l := range s.lines {
		if f := strings.Fields(strings.TrimSpace(l)); len(f) == 2 && strings.HasPrefix(f[0], "a=msid:") {
			return f[1]
		}
	}
	return ""
}

// payloadType returns the payload type of mime ("video/VP8") in s.
func (s section) payloadType(mime string) (int, bool) {
	name := mime[strings.IndexByte(mime, '/')+1:]
	for _, l := range s.lines {
		var pt int
		var enc string
		if n, _ := fmt.Sscanf(strings.TrimSpace(l), "a=rtpmap:%d %s", &pt, &enc); n == 2 && strings.EqualFold(strings.SplitN(enc, "/", 2)[0], name) {
			return pt, true
		}
	}
	return 0, false
}

// mimeOf returns the codec of payload type pt in s, as "video/VP8".
func (s section) mimeOf(pt int) string {
	for _, l := range s.lines {
		var p int
		var enc string
		if n, _ := fmt.Sscanf(strings.TrimSpace(l), "a=rtpmap:%d %s", &p, &enc); n == 2 && p == pt {
			return "video/" + strings.SplitN(enc, "/", 2)[0]
		}
	}
	return ""
}

// preparedDecoder is a video decoder set up for an announced size while
// the call connects, for the track's receiver to take.
type preparedDecoder struct {
	mime string
	done chan struct{}

	mu      sync.Mutex
	dec     playback.VideoDecoder
	dropped bool
}

// prepareDecoder starts setting up a decoder for the video ReceiveVideo
// will take, when the peer's description announces its size.
func (s *PeerSession) prepareDecoder(l *link, remoteSDP string) {
	rv := s.cfg.ReceiveVideo
	if rv == nil || rv.NewDecoder == nil || l.prepared.Load() != nil {
		return
	}
	for _, fs := range announcedSizes(remoteSDP) {
		if rv.Track != "" && fs.track != rv.Track {
			continue
		}
		p := &preparedDecoder{mime: fs.mime, done: make(chan struct{})}
		l.prepared.Store(p)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(p.done)
			dec, err := rv.NewDecoder(capture.Codec{MimeType: fs.mime, ClockRate: 90000})
			if err != nil {
				return
			}
			if sp, ok := dec.(playback.SizePreparer); ok {
				if err := sp.Prepare(fs.w, fs.h); err != nil {
					s.log.Debug("rtclink: cannot prepare the video decoder", "size", fmt.Sprintf("%dx%d", fs.w, fs.h), "err", err)
				}
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.dropped {
				_ = dec.Close()
				return
			}
			p.dec = dec
		}()
		return
	}
}

// take waits for the decoder being prepared and returns it if it is for
// mime, or nil.
func (p *preparedDecoder) take(mime string) playback.VideoDecoder {
	if p == nil {
		return nil
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	dec := p.dec
	p.dec = nil
	if dec != nil && !strings.EqualFold(p.mime, mime) {
		_ = dec.Close()
		return nil
	}
	return dec
}

// drop closes a decoder nobody took, now or when it is ready.
func (p *preparedDecoder) drop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropped = true
	if p.dec != nil {
		_ = p.dec.Close()
		p.dec = nil
	}
}
