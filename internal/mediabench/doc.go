// Package mediabench measures avlink's media pipeline end to end on one
// machine: capture-to-decoded video latency (the capture time stamped
// into each frame, read back from the decoded frame at the sink), the
// time from a frame's capture to its last RTP packet, encode and decode
// time, audio latency from a click train, the time from a sender joining
// its room to the first decoded frame, the CPU each side uses, the
// quality of the decoded video (PSNR) and the memory a session takes.
//
// A measurement runs one sending and one receiving rtclink session. In
// the benchmark command each runs in its own process (the command
// re-executes itself with a peer configuration), so the CPU time each
// process reports for itself (getrusage) is that peer's; PSNR and memory
// runs keep both sides in one process. The pure pieces (percentiles, PSNR, /proc parsing,
// click matching) are exported for the command and tested here.
package mediabench
