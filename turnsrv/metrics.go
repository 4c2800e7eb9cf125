package turnsrv

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a relayed packet was dropped (turnsrv_dropped_packets_total).
const (
	// dropQueueFull: pion fell behind the data plane by a whole queue of
	// datagrams on one socket.
	dropQueueFull = "queue_full"
	// dropTooBig: a peer's datagram does not fit in ChannelData.
	dropTooBig = "too_big"
)

// metrics are the server's Prometheus series, kept in a registry of its
// own so several servers (or tests) in one process do not collide.
type metrics struct {
	reg *prometheus.Registry

	allocations  prometheus.Counter
	authFailures prometheus.Counter
	refusals     *prometheus.CounterVec
	dropped      *prometheus.CounterVec

	// Per-packet counters are plain atomics read by CounterFuncs, which
	// is cheaper on the relay path than a prometheus.Counter.
	bytesToPeer, packetsToPeer     atomic.Uint64
	bytesToClient, packetsToClient atomic.Uint64
	bandwidthDrops                 atomic.Uint64
}

func newMetrics(active func() int) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.allocations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "turnsrv_allocations_total", Help: "Allocations created.",
	})
	m.authFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "turnsrv_auth_failures_total", Help: "Failed authentications (unknown user, wrong password, expired credential).",
	})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "turnsrv_refusals_total", Help: "Requests refused by policy, by reason.",
	}, []string{"reason"})
	for _, r := range []string{reasonPeerDenied, reasonUserQuota, reasonTotalQuota, reasonAuthRateLimited} {
		m.refusals.WithLabelValues(r)
	}
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "turnsrv_dropped_packets_total", Help: "Relayed packets dropped, by reason.",
	}, []string{"reason"})
	for _, r := range []string{dropQueueFull, dropTooBig} {
		m.dropped.WithLabelValues(r)
	}
	active64 := func() float64 { return float64(active()) }
	load := func(v *atomic.Uint64) func() float64 { return func() float64 { return float64(v.Load()) } }
	relayed := func(name, help string, dir string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: name, Help: help, ConstLabels: prometheus.Labels{"direction": dir},
		}, load(v))
	}
	m.reg.MustRegister(
		m.allocations, m.authFailures, m.refusals, m.dropped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "turnsrv_allocations_active", Help: "Allocations currently alive.",
		}, active64),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "turnsrv_bandwidth_dropped_packets_total", Help: "Relayed packets dropped by the max-bps cap.",
		}, load(&m.bandwidthDrops)),
		relayed("turnsrv_relayed_bytes_total", "Payload bytes relayed.", "to_peer", &m.bytesToPeer),
		relayed("turnsrv_relayed_bytes_total", "Payload bytes relayed.", "to_client", &m.bytesToClient),
		relayed("turnsrv_relayed_packets_total", "Packets relayed.", "to_peer", &m.packetsToPeer),
		relayed("turnsrv_relayed_packets_total", "Packets relayed.", "to_client", &m.packetsToClient),
	)
	return m
}
