package rtclink

import (
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/cc"
)

// rtpHeaderBytes is the RTP header of a media packet as the congestion
// controller counts it: 12 bytes and the transport-wide sequence number
// extension.
const rtpHeaderBytes = 20

// budgetEvery is how often the budget is measured again when the
// estimate does not change.
const budgetEvery = 250 * time.Millisecond

// wire counts what a set of send tracks has written.
type wire struct{ bytes, packets int64 }

func (w wire) add(t *sendTrack) wire {
	return wire{w.bytes + t.bytes.Load(), w.packets + t.packets.Load()}
}

// rtp is w in the congestion controller's unit: RTP packets, headers
// included.
func (w wire) rtp() int64 { return w.bytes + rtpHeaderBytes*w.packets }

// budget turns the congestion controller's estimate, which covers every
// RTP packet the session sends, into the share of the encoders that
// follow it: what the other tracks send (audio above all) and the video's
// own RTP headers come off first, or the link would carry the estimate
// plus all of that.
type budget struct {
	mu         sync.Mutex
	at         time.Time
	other      wire    // the other tracks' counters at at
	video      wire    // the following video tracks' counters at at
	otherBps   float64 // what the other tracks send, smoothed
	videoShare float64 // payload share of the video's RTP bytes
	lastLog    time.Time
}

func newBudget() *budget { return &budget{videoShare: 1} }

// sample measures the rates since the previous sample, at least
// budgetEvery apart.
func (b *budget) sample(now time.Time, other, video wire) {
	if b.at.IsZero() {
		b.at, b.other, b.video = now, other, video
		return
	}
	dt := now.Sub(b.at).Seconds()
	if dt < budgetEvery.Seconds()*0.9 {
		return
	}
	bps := float64(other.rtp()-b.other.rtp()) * 8 / dt
	// Audio is steady; smoothing over about a second keeps one late
	// packet from moving the video's target.
	b.otherBps += (bps - b.otherBps) / 4
	if d := video.rtp() - b.video.rtp(); d > 0 {
		b.videoShare = float64(video.bytes-b.video.bytes) / float64(d)
	}
	b.at, b.other, b.video = now, other, video
}

// forVideo is the encoders' share of an estimate of bps.
func (b *budget) forVideo(bps int) int {
	return int((float64(bps) - b.otherBps) * b.videoShare)
}

// meter returns the counters of the tracks that do not follow the
// estimate and of those that do.
func (s *PeerSession) meter() (other, video wire, following []*videoSend) {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	for _, v := range s.videos {
		if v.follows() {
			following = append(following, v)
			video = video.add(v.tr)
		} else {
			other = other.add(v.tr)
		}
	}
	if s.audio != nil {
		other = other.add(s.audio.tr)
	}
	return other, video, following
}

// followEstimateOf feeds est's target to the encoders, less what the
// session sends besides them, shared among the video tracks in
// proportion to their MaxBitrate, each share clamped to its track's
// range; rises are smoothed, falls are taken at once. It measures again
// every budgetEvery, as audio may start or stop while the estimate holds.
func (s *PeerSession) followEstimateOf(est cc.BandwidthEstimator) (stop func()) {
	b := newBudget()
	done := make(chan struct{})
	apply := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-done:
			return
		default:
		}
		other, video, following := s.meter()
		now := time.Now()
		b.sample(now, other, video)
		if len(following) == 0 {
			return
		}
		// The latest estimate, not the one a callback carried: pion
		// calls back on goroutines of their own, which may run out of
		// order.
		bps := est.GetTargetBitrate()
		share := b.forVideo(bps)
		total := 0
		for _, v := range following {
			_, hi, _ := v.cfg.bitrates()
			total += hi
		}
		sum := 0
		for _, v := range following {
			_, hi, _ := v.cfg.bitrates()
			sum += v.follow(int(int64(share) * int64(hi) / int64(total)))
		}
		s.stats.videoOut.targetBitrate.Store(int64(sum))
		s.stats.estimate.Store(int64(bps))
		if now.Sub(b.lastLog) >= 5*time.Second {
			b.lastLog = now
			st := est.GetStats()
			s.log.Debug("rtclink: congestion estimate", "estimate", bps, "video", sum, "others", int(b.otherBps),
				"loss", st["averageLoss"], "delayTarget", st["delayTargetBitrate"], "lossTarget", st["lossTargetBitrate"],
				"usage", st["usage"], "state", st["state"])
		}
	}
	est.OnTargetBitrateChange(func(int) { apply() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(budgetEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				apply()
			case <-done:
				return
			case <-s.ctx.Done():
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}
