// Package blackhole makes loopback ports that never answer, for tests of
// what a program does when a firewall drops its packets silently.
package blackhole
