// Package synth provides synthetic media sources that need no hardware: a
// moving test pattern stamped with each frame's capture time and counter
// (see package stamp), a sine tone, and a click train for measuring audio
// latency together with a [ClickDetector] for the receiving side.
//
// Every source paces itself with a capture.Clock, the wall clock unless
// configured otherwise, so a test can run it faster than real time.
package synth
