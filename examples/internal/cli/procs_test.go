package cli

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The program's Go code goes to one core unless GOMAXPROCS says
// otherwise.
func TestOneCoreForGo(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)

	runtime.GOMAXPROCS(3)
	t.Setenv("GOMAXPROCS", "3")
	OneCoreForGo()
	assert.Equal(t, 3, runtime.GOMAXPROCS(0), "GOMAXPROCS set by the user was overridden")

	t.Setenv("GOMAXPROCS", "")
	OneCoreForGo()
	assert.Equal(t, 1, runtime.GOMAXPROCS(0))
}
