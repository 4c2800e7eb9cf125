// Package signalbench measures signaling servers under load: the avlink
// server (examples/signal-server) and a re-creation of the original
// Node.js server (node/server.js, on the npm package ws), each run as a
// separate process on 127.0.0.1 and loaded from this process.
//
// For every connection count N it reports the connections held, the
// server's memory per connection (resident set size from
// /proc/PID/status, idle and after joining rooms, and for the Go server
// its heap and goroutines from /metrics), the messages delivered per
// second while every client sends ~300-byte candidate messages as fast
// as a window of messages in flight allows, the deliveries per second of
// server CPU (utime+stime from /proc/PID/stat), and the connections
// dropped. A paced run (100 clients, 2 messages a second each, send
// times inside the messages) gives the delivery latency p50 and p99.
//
// The load generator shares the machine's cores with the server under
// test; deliveries per second of server CPU is the figure that least
// depends on that.
//
// The command is in cmd:
//
//	go run ./internal/signalbench/cmd -n 10,100,1000,10000 -runs 3
package signalbench
