package speaker

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/internal/pulsetest"
)

// pulse is the PulseAudio server every test here plays on, started before
// any test touches PortAudio.
var pulse *pulsetest.Shared

func TestMain(m *testing.M) {
	pulse = pulsetest.StartShared(pulsetest.Config{})
	code := m.Run()
	_ = pulse.Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
