package turnsrv

import (
	"net"
	"sync"
)

// quotas counts live allocations per user and in total.
type quotas struct {
	user, total int

	mu     sync.Mutex
	byUser map[string]int
	all    int
}

func newQuotas(cfg Config) *quotas {
	return &quotas{user: cfg.UserQuota, total: cfg.TotalQuota, byUser: make(map[string]int)}
}

// check is the turn.QuotaHandler; it runs just before an allocation is
// created.
func (s *Server) checkQuota(userID, _ string, src net.Addr) bool {
	q := s.quotas
	q.mu.Lock()
	reason := ""
	switch {
	case q.total > 0 && q.all >= q.total:
		reason = reasonTotalQuota
	case q.user > 0 && q.byUser[userID] >= q.user:
		reason = reasonUserQuota
	}
	q.mu.Unlock()
	if reason == "" {
		return true
	}
	s.metrics.refusals.WithLabelValues(reason).Inc()
	s.log.Info("turn allocation refused", "client", src.String(), "user", userID, "reason", reason)
	return false
}

func (q *quotas) add(userID string, delta int) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.all += delta
	if n := q.byUser[userID] + delta; n > 0 {
		q.byUser[userID] = n
	} else {
		delete(q.byUser, userID)
	}
	return q.all
}

func (q *quotas) active() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.all
}
