// Package mediabench measures avlink's media pipeline end to end on one
// machine: capture-to-decoded video latency (the capture time stamped
// into each frame, read back from the decoded frame at the sink), the
// time from a frame's capture to its last RTP packet, encode and decode
// time, audio latency from a click train, the time from a sender joining
// its room to the first decoded frame, the CPU each side uses, the
// quality of the decoded video (PSNR) and the memory a session takes.
//
// The figures a user sees come from the example programs themselves
// (RunProgram): examples/sender, built from the module and started as a
// user starts it, sends to a measuring receiver (a peer of this package
// in its own process) or to examples/receiver, through examples/signal-
// server or the original deployment's Node.js server; each program's CPU
// is read from /proc for its whole process.
//
// The library's own figures come from one sending and one receiving
// rtclink session of this package. In the benchmark command each runs in
// its own process (the command re-executes itself with a peer
// configuration), so the CPU time each process reports for itself
// (getrusage) is that peer's; PSNR and memory runs keep both sides in one
// process. The pure pieces (percentiles, PSNR, /proc parsing, click
// matching) are exported for the command and tested here.
package mediabench
