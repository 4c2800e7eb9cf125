package signalbench

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte("# HELP go_goroutines x\ngo_goroutines 12\nreq_total{code=\"200\", path=\"/a b\"} 3\nreq_total{code=\"500\"} 1e1\n"))
	f.Add([]byte("x{ 1\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = parseMetrics(data)
	})
}

func TestParseMetrics(t *testing.T) {
	m := parseMetrics([]byte("# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 12\n" +
		"avlink_signal_refusals_total{reason=\"too big\"} 3\navlink_signal_refusals_total{reason=\"origin\"} 1e1\nbroken\n"))
	assert.Equal(t, 12.0, m["go_goroutines"])
	assert.Equal(t, 13.0, m["avlink_signal_refusals_total"], "labelled series add up under their name")
	assert.NotContains(t, m, "broken")
}
