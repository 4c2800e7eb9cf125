// Package mediabench measures avlink's media pipeline end to end on one
// machine: glass-to-glass video latency read from the frame stamp, the
// time from a frame's capture to its last RTP packet, encode and decode
// time, audio latency from a click train, the time from a sender joining
// its room to the first decoded frame, the CPU each side uses, the
// quality of the decoded video (PSNR) and the memory a session takes.
//
// A measurement runs one sending and one receiving rtclink.Session. In
// the benchmark command each runs in its own process (the command
// re-executes itself with a peer configuration), so the CPU time of each
// can be read from /proc/self/stat; PSNR and memory runs keep both sides
// in one process. The pure pieces (percentiles, PSNR, /proc parsing,
// click matching) are exported for the command and tested here.
package mediabench
