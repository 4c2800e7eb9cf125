package mediabench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/avlink/avlink/internal/procstat"
)

// MemoryResult is the memory that sender and receiver pairs take in one
// process. The first pair pays for what every later one shares (libraries,
// the runtime, pion's tables), so the figures per pair are the growth from
// one pair to Pairs pairs, divided by Pairs-1.
type MemoryResult struct {
	Pairs int `json:"pairs"`
	// RSSOne and HeapOne are the resident set and the live Go heap
	// (after a collection) with one pair running; RSSAll and HeapAll
	// with every pair. Live bytes, not the spans holding them: a span
	// kept for a few objects made one pair look bigger than two.
	RSSOne  int64 `json:"rssOne"`
	RSSAll  int64 `json:"rssAll"`
	HeapOne int64 `json:"heapOne"`
	HeapAll int64 `json:"heapAll"`
}

// RSSPerPair is the resident memory one more pair costs.
func (m MemoryResult) RSSPerPair() float64 {
	return float64(m.RSSAll-m.RSSOne) / float64(max(1, m.Pairs-1))
}

// HeapPerPair is the Go heap one more pair costs.
func (m MemoryResult) HeapPerPair() float64 {
	return float64(m.HeapAll-m.HeapOne) / float64(max(1, m.Pairs-1))
}

// RunMemory opens cfg.Pairs video sender and receiver pairs in this
// process, each in its own room, and measures memory with one and with
// all of them sending.
func RunMemory(ctx context.Context, cfg PeerConfig) (MemoryResult, error) {
	cfg.Mode = MemoryPairs
	cfg, err := cfg.withDefaults()
	if err != nil {
		return MemoryResult{}, err
	}
	res := MemoryResult{Pairs: cfg.Pairs}
	var peers []*Peer
	defer func() {
		for _, p := range peers {
			_ = p.Close()
		}
	}()
	open := func(i int) (*Peer, error) {
		rc, sc := cfg, cfg
		rc.Mode, sc.Mode = ReceiveDecode, SendVideo
		rc.Room = fmt.Sprintf("%s-%d", cfg.Room, i)
		sc.Room = rc.Room
		r, err := StartPeer(ctx, rc)
		if err != nil {
			return nil, err
		}
		peers = append(peers, r)
		s, err := StartPeer(ctx, sc)
		if err != nil {
			return nil, err
		}
		peers = append(peers, s)
		return r, nil
	}
	sample := func() (rss, heap int64, err error) {
		if err := sleep(ctx, cfg.Warmup+time.Second); err != nil {
			return 0, 0, err
		}
		// Twice: the first collection only moves pooled buffers to the
		// pools' victim caches.
		runtime.GC()
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		m, err := procstat.ReadMemory(0)
		return m.RSS, int64(ms.HeapAlloc), err
	}
	r, err := open(0)
	if err != nil {
		return res, err
	}
	if err := r.WaitStarted(ctx); err != nil {
		return res, err
	}
	if res.RSSOne, res.HeapOne, err = sample(); err != nil {
		return res, err
	}
	var rs []*Peer
	for i := 1; i < cfg.Pairs; i++ {
		r, err := open(i)
		if err != nil {
			return res, err
		}
		rs = append(rs, r)
	}
	var werr error
	for _, r := range rs {
		werr = errors.Join(werr, r.WaitStarted(ctx))
	}
	if werr != nil {
		return res, werr
	}
	res.RSSAll, res.HeapAll, err = sample()
	return res, err
}
