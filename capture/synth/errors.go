package synth

import "errors"

// ErrConfig reports a configuration a source cannot run with, such as a
// negative size or rate.
var ErrConfig = errors.New("synth: invalid configuration")
