//go:build !linux

package v4l2

import (
	"fmt"
	"runtime"
)

// hostSystem has no V4L2: every call fails with ErrNotSupported.
func hostSystem() system { return noSystem{} }

type noSystem struct{}

func (noSystem) nodes() ([]string, error) { return nil, notLinux() }

func (noSystem) open(string) (device, error) { return nil, notLinux() }

func notLinux() error { return fmt.Errorf("%w (this is %s)", ErrNotSupported, runtime.GOOS) }
