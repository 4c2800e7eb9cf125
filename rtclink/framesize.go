package rtclink

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/playback"
	"github.com/pion/sdp/v3"
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

// addFrameSizes returns desc with an a=framesize line for each size, in
// the video section that sends its track, after its codec's rtpmap.
func addFrameSizes(desc string, sizes []frameSize) string {
	if len(sizes) == 0 {
		return desc
	}
	var sd sdp.SessionDescription
	if sd.UnmarshalString(desc) != nil {
		return desc
	}
	added := false
	for _, md := range sd.MediaDescriptions {
		id := videoTrack(md)
		for _, fs := range sizes {
			for _, m := range rtpmaps(md) {
				if id != "" && fs.track == id && strings.EqualFold(m.mime, fs.mime) {
					a := sdp.NewAttribute("framesize", fmt.Sprintf("%d %d-%d", m.pt, fs.w, fs.h))
					md.Attributes = slices.Insert(md.Attributes, m.at+1, a)
					added = true
					break
				}
			}
		}
	}
	if !added {
		return desc
	}
	b, err := sd.Marshal()
	if err != nil {
		return desc
	}
	return string(b)
}

// announcedSizes reads the a=framesize lines of desc's video sections.
func announcedSizes(desc string) []frameSize {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(desc) != nil {
		return nil
	}
	var out []frameSize
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "video" {
			continue
		}
		id := videoTrack(md)
		for _, a := range md.Attributes {
			var pt, w, h int
			if a.Key != "framesize" {
				continue
			}
			if n, _ := fmt.Sscanf(a.Value, "%d %d-%d", &pt, &w, &h); n != 3 || w <= 0 || h <= 0 || w > 16383 || h > 16383 {
				continue
			}
			for _, m := range rtpmaps(md) {
				if m.pt == pt {
					out = append(out, frameSize{track: id, mime: m.mime, w: w, h: h})
					break
				}
			}
		}
	}
	return out
}

// videoTrack returns the track id of a video section's a=msid, or "".
func videoTrack(md *sdp.MediaDescription) string {
	if md.MediaName.Media != "video" {
		return ""
	}
	v, _ := md.Attribute("msid")
	if f := strings.Fields(v); len(f) == 2 {
		return f[1]
	}
	return ""
}

// rtpmap is one a=rtpmap of a video section: its payload type, codec
// ("video/VP8") and index among the section's attributes.
type rtpmap struct {
	pt   int
	mime string
	at   int
}

func rtpmaps(md *sdp.MediaDescription) []rtpmap {
	var out []rtpmap
	for i, a := range md.Attributes {
		var pt int
		var enc string
		if a.Key != "rtpmap" {
			continue
		}
		if n, _ := fmt.Sscanf(a.Value, "%d %s", &pt, &enc); n == 2 {
			name, _, _ := strings.Cut(enc, "/")
			out = append(out, rtpmap{pt: pt, mime: "video/" + name, at: i})
		}
	}
	return out
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
