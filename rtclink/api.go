package rtclink

import (
	"fmt"
	"strings"
	"time"

	"github.com/avlink/avlink/capture"
	"github.com/avlink/avlink/internal/pionlog"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// buildAPI makes the pion API for one peer connection: codecs (the
// defaults, plus the H.264 profile a pre-encoded track carries when the
// defaults lack it), interceptors (NACK both ways, RTCP reports, TWCC
// feedback, GCC) and the ICE settings. It is made anew for each peer
// connection so that a track added mid-session finds its codec and the
// congestion controller registered in the next one; est receives that
// peer connection's bandwidth estimator.
func (s *PeerSession) buildAPI(est *cc.BandwidthEstimator) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, err
	}
	for _, c := range s.sendCodecs() {
		if !strings.EqualFold(c.MimeType, webrtc.MimeTypeH264) || hasDefaultH264(c) {
			continue
		}
		err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: rtpCapability(c, videoFeedback),
			PayloadType:        h264ExtraPT,
		}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return nil, fmt.Errorf("rtclink: register %s: %w", c.Fmtp, err)
		}
	}

	ir := &interceptor.Registry{}
	s.mediaMu.Lock()
	immediate := false
	for _, v := range s.videos {
		immediate = immediate || v.cfg.immediate()
	}
	s.mediaMu.Unlock()
	if immediate {
		err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: playoutDelayURI}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return nil, err
		}
		ir.Add(playoutFactory{})
	}
	// Before the NACK responder, so that it sees its retransmissions.
	ir.Add(resendGuardFactory{budget: &resendBudget{target: s.resendTarget}, c: &s.stats.resend})
	err := webrtc.ConfigureNackWithOptions(m, ir, []nack.GeneratorOption{
		// Ask for a missing packet a few times, then leave the frame to
		// a keyframe request.
		nack.GeneratorMaxNacksPerPacket(maxNacksPerPacket),
		nack.WithGeneratorLoggerFactory(pionlog.Factory{Logger: s.log}),
	}, nack.WithResponderLoggerFactory(pionlog.Factory{Logger: s.log}))
	if err != nil {
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
	// Congestion control runs whether or not video is sent yet: a video
	// track added mid-call must find an estimate to follow.
	if !s.cfg.DisableCongestionControl {
		lo, hi, start := s.ccBitrates()
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
		f.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { *est = e })
		ir.Add(f)
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
			return nil, err
		}
	}

	se := webrtc.SettingEngine{LoggerFactory: pionlog.Factory{Logger: s.log}}
	if s.cfg.Net != nil {
		se.SetNet(s.cfg.Net)
	} else {
		n, err := hostNet(s.ctx)
		if err != nil {
			return nil, err
		}
		se.SetNet(n)
	}
	// Browsers without media permission offer mDNS names: resolve them.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	se.SetIncludeLoopbackCandidate(s.cfg.IncludeLoopback)
	// pion waits up to 2 s before it accepts a relayed pair and 1 s for a
	// peer-reflexive one, in case a better pair turns up: long for a
	// two-party call, where the first working pair is nearly always the
	// one to keep. Wait a moment for a direct pair, not seconds.
	se.SetSrflxAcceptanceMinWait(directAcceptWait)
	se.SetPrflxAcceptanceMinWait(directAcceptWait)
	se.SetRelayAcceptanceMinWait(relayAcceptWait)
	// pion gives up on a path only after 5 s + 25 s; a robot's operator
	// should hear within seconds that there is none (WaitConnected's
	// ErrNoPath), and the offerer then restarts ICE.
	se.SetICETimeouts(iceDisconnectedTimeout, iceFailedTimeout, iceKeepalive)
	// DTLS's cookie exchange proves that a client owns its address before
	// the server does any work. ICE has already proved it (a check answered
	// with the call's own credentials) before DTLS starts, so it only costs
	// a round trip on every call's way to its first picture.
	se.SetDTLSInsecureSkipHelloVerify(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// directAcceptWait and relayAcceptWait are how long ICE waits for a better
// pair before it accepts a reflexive or a relayed one.
const (
	directAcceptWait = 100 * time.Millisecond
	relayAcceptWait  = 300 * time.Millisecond
)

// ICE timeouts: "disconnected" after 4 s without traffic, "failed" 12 s
// later, a keepalive every 2 s.
const (
	iceDisconnectedTimeout = 4 * time.Second
	iceFailedTimeout       = 12 * time.Second
	iceKeepalive           = 2 * time.Second
)

// maxNacksPerPacket bounds how often a missing packet is asked for, one
// request per 100 ms: past that its frame has been given up on.
const maxNacksPerPacket = 3

// resendTarget is the bitrate retransmissions are budgeted against: the
// video encoder's current target, or its start value before an estimate.
func (s *PeerSession) resendTarget() int {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	sum := 0
	for _, v := range s.videos {
		t := int(v.target.Load())
		if t <= 0 {
			_, _, t = v.cfg.bitrates()
		}
		sum += t
	}
	if sum == 0 {
		_, _, sum = (&VideoSender{}).bitrates()
	}
	return sum
}

// ccBitrates is the range and first value of the congestion controller
// of a new peer connection. Its estimate is shared among the video tracks
// in proportion to their MaxBitrate and each share is clamped to its
// track's range, so the controller spans the sum of the tracks' ranges,
// and above that room for what else the estimate covers (audio, RTP
// headers), so that the video can reach its MaxBitrate. A session that
// sends no video yet gets the widest range a track is likely to want,
// ccFloor to ccCeiling: the estimator's range cannot change once made,
// and a track added mid-call clamps its share to its own.
func (s *PeerSession) ccBitrates() (lo, hi, start int) {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	if len(s.videos) == 0 {
		_, _, start = (&VideoSender{}).bitrates()
		return ccFloor, ccCeiling, start
	}
	for _, v := range s.videos {
		l, h, st := v.cfg.bitrates()
		lo, hi, start = lo+l, hi+h, start+st
	}
	return lo, hi + hi/20 + ccAudioRoom, start
}

// ccFloor and ccCeiling bound the congestion controller of a session that
// sends no video yet: capture/vp8's default encoder range.
const (
	ccFloor   = 30_000
	ccCeiling = 10_000_000
)

// ccAudioRoom is what the controller's range leaves above the video's for
// audio: Opus at its usual bitrates with FEC and headers stays under it.
const ccAudioRoom = 128_000

// h264ExtraPT is the payload type of an H.264 profile outside pion's
// defaults: a dynamic type the defaults leave free (an occupied one would
// be ignored, or refused, by RegisterCodec).
const h264ExtraPT = 123

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

// sendCodecs lists the codecs of the tracks this session sends, those
// added mid-session included.
func (s *PeerSession) sendCodecs() []capture.Codec {
	var out []capture.Codec
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	for _, v := range s.videos {
		out = append(out, v.cfg.codec())
	}
	if s.audio != nil {
		out = append(out, s.audio.cfg.codec())
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
