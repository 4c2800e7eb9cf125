package audiobench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/avlink/avlink/internal/pulsetest"
)

// pulse is the PulseAudio server the programs run against.
var pulse *pulsetest.Shared

func TestMain(m *testing.M) {
	srv, err := pulsetest.Start(pulsetest.Config{})
	pulse = &pulsetest.Shared{Server: srv, Err: err}
	code := m.Run()
	_ = pulse.Close()
	if programsDir != "" {
		_ = os.RemoveAll(programsDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	buildOnce   sync.Once
	programs    Programs
	programsDir string
	buildErr    error
)

// built builds the three programs once for the whole package.
func built(t *testing.T) Programs {
	t.Helper()
	buildOnce.Do(func() {
		programsDir, buildErr = os.MkdirTemp("", "audiobench-test")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		programs, buildErr = Build(ctx, programsDir)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return programs
}
