package rtclink

import (
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// playoutDelayURI is the RTP header extension by which a sender tells a
// browser how long it may hold frames before rendering them.
const playoutDelayURI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

// Playout says whether the receiver may smooth the video it plays.
type Playout int

const (
	// PlayoutDefault asks for immediate rendering when the video comes
	// from a live Source (a camera) and leaves the receiver's jitter
	// buffer alone for pre-encoded Samples (a recording). It is the zero
	// value.
	PlayoutDefault Playout = iota
	// PlayoutImmediate asks the receiver to render each frame as soon as
	// it is decoded (playout delay min = max = 0). Browsers then skip the
	// smoothing delay of their jitter buffer, which is most of what stands
	// between a frame's arrival and the screen on a good network.
	PlayoutImmediate
	// PlayoutSmooth sends no playout-delay extension: the receiver buffers
	// as it sees fit.
	PlayoutSmooth
)

// immediate reports whether v asks for immediate playout.
func (v *VideoSender) immediate() bool {
	switch v.Playout {
	case PlayoutImmediate:
		return true
	case PlayoutSmooth:
		return false
	}
	return v.Samples == nil
}

// playoutInterceptor writes the playout-delay extension, min = max = 0,
// on every packet of every local stream that negotiated it.
type playoutInterceptor struct{ interceptor.NoOp }

func (*playoutInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == playoutDelayURI {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return w
	}
	ext, err := rtp.PlayoutDelayExtension{}.Marshal()
	if err != nil {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if err := h.SetExtension(id, ext); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}

type playoutFactory struct{}

func (playoutFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &playoutInterceptor{}, nil
}
