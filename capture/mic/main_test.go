package mic

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/internal/pulsetest"
)

// pulse is the PulseAudio server every test here captures from, started
// before any test touches PortAudio (ALSA reads its configuration, and
// PortAudio scans devices, once per process and initialisation).
var pulse *pulsetest.Shared

func TestMain(m *testing.M) {
	if os.Getenv(noDeviceEnv) != "" {
		os.Exit(m.Run()) // the child of TestNoDeviceAtAll: no server
	}
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
