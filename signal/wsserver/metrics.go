package wsserver

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	connections     prometheus.Gauge
	rooms           prometheus.Gauge
	messagesIn      prometheus.Counter
	messagesOut     prometheus.Counter
	drops           prometheus.Counter
	slowDisconnects prometheus.Counter
	refusals        *prometheus.CounterVec
	handler         http.Handler
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "connections", Help: "Open WebSocket connections."}),
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "rooms", Help: "Rooms with at least one member."}),
		messagesIn: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "messages_in_total", Help: "Messages received from clients."}),
		messagesOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "messages_out_total", Help: "Messages written to clients."}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "drops_total", Help: "Messages dropped because a receiver's queue was full."}),
		slowDisconnects: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "slow_disconnects_total", Help: "Connections closed because they stopped reading."}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "avlink", Subsystem: "signal",
			Name: "refusals_total", Help: "Refused upgrades and messages, by reason."}, []string{"reason"}),
	}
	if reg == nil {
		// A registry of the server's own also carries the Go runtime's
		// and the process's figures (heap, goroutines, RSS), as the
		// default registry does.
		r := prometheus.NewRegistry()
		if err := r.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
		if err := r.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, err
		}
		reg = r
		m.handler = promhttp.HandlerFor(r, promhttp.HandlerOpts{})
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		m.handler = promhttp.HandlerFor(g, promhttp.HandlerOpts{})
	} else {
		m.handler = http.NotFoundHandler()
	}
	for _, c := range []prometheus.Collector{m.connections, m.rooms, m.messagesIn, m.messagesOut, m.drops, m.slowDisconnects, m.refusals} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
