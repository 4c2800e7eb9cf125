package vp8

// reconfigs reports how often libvpx was reconfigured, so tests can check
// that it happens on bitrate changes only.
func (e *Encoder) reconfigs() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return 0
	}
	return e.enc.Reconfigs()
}
