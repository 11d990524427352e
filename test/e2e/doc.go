// Package e2e holds end-to-end tests and benchmarks: a real agent (real
// process and service backends) served over TCP with mutual TLS on
// 127.0.0.1, driven through the Go client and the ctl and ctld binaries.
package e2e
