package rtclink

import (
	"fmt"
	"strings"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/pionlog"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/webrtc/v4"
)

// buildAPI makes the pion API every peer connection of a session shares:
// codecs, interceptors (NACK both ways, RTCP reports, TWCC feedback, GCC)
// and the ICE settings.
func (s *Session) buildAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	// A pre-encoded H.264 stream is announced with the profile it carries,
	// which may be one the defaults lack.
	for _, c := range s.sendCodecs() {
		if !strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) || hasDefaultH264(c) {
			continue
		}
		err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: rtpCapability(c, videoFeedback),
			PayloadType:        127,
		}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return nil, fmt.Errorf("rtclink: register %s: %w", c.Fmtp, err)
		}
	}

	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureStatsInterceptor(ir); err != nil {
		return nil, err
	}
	if s.cfg.Video != nil && !s.cfg.DisableCongestionControl {
		lo, hi, start := s.cfg.Video.bitrates()
		f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
			// No pacer: the encoder already sends at the target rate,
			// and a pacing queue would only add latency.
			return gcc.NewSendSideBWE(
				gcc.SendSideBWEInitialBitrate(start),
				gcc.SendSideBWEMinBitrate(lo),
				gcc.SendSideBWEMaxBitrate(hi),
				gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
				gcc.WithLoggerFactory(pionlog.Factory{Logger: s.log}),
			)
		})
		if err != nil {
			return nil, err
		}
		f.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) { s.newEstimator = est })
		ir.Add(f)
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
			return nil, err
		}
	}

	se := webrtc.SettingEngine{LoggerFactory: pionlog.Factory{Logger: s.log}}
	if s.cfg.Net != nil {
		se.SetNet(s.cfg.Net)
	}
	// Browsers without media permission offer mDNS names: resolve them.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	se.SetIncludeLoopbackCandidate(s.cfg.IncludeLoopback)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

var videoFeedback = []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}}

func rtpCapability(c capture.Codec, fb []webrtc.RTCPFeedback) webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: c.MimeType, ClockRate: c.ClockRate, Channels: c.Channels, SDPFmtpLine: c.Fmtp, RTCPFeedback: fb}
}

func codecOf(p webrtc.RTPCodecParameters) capture.Codec {
	return capture.Codec{MimeType: p.MimeType, ClockRate: p.ClockRate, Channels: p.Channels, Fmtp: p.SDPFmtpLine}
}

// hasDefaultH264 reports whether pion's default H.264 registrations
// already cover c's profile-level-id.
func hasDefaultH264(c capture.Codec) bool {
	want := fmtpValue(c.Fmtp, "profile-level-id")
	for _, id := range []string{"42001f", "42e01f", "4d001f", "64001f"} {
		if strings.EqualFold(want, id) {
			return true
		}
	}
	return false
}

func fmtpValue(fmtp, key string) string {
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// sendCodecs lists the codecs of the tracks this session sends.
func (s *Session) sendCodecs() []capture.Codec {
	var out []capture.Codec
	if v := s.cfg.Video; v != nil {
		out = append(out, v.codec())
	}
	if a := s.cfg.Audio; a != nil {
		out = append(out, a.codec())
	}
	return out
}

func (v *VideoSender) codec() capture.Codec {
	if v.Samples != nil {
		return v.Samples.Codec()
	}
	return v.Encoder.Codec()
}

func (a *AudioSender) codec() capture.Codec {
	if a.Samples != nil {
		return a.Samples.Codec()
	}
	return a.Encoder.Codec()
}
