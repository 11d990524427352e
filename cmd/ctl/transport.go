package main

import (
	"google.golang.org/grpc"

	"github.com/remotectl/remotectl/client"
)

// listingWindow is the HTTP/2 flow-control window ctl offers the agent. A
// listing of 1000 processes is ~150 KB of protobuf: with grpc-go's 64 KB
// initial window the agent stalls until ctl, a short-lived process that a
// busy host schedules late, reads and sends window updates. ctl reads every
// response whole anyway. (make bench-ctl, 61 alternating runs at ~1000
// processes on a loaded host: 129 ms -> 123 ms median.)
const listingWindow = 8 << 20

func transportOptions() []client.Option {
	return []client.Option{client.WithDialOptions(
		grpc.WithInitialWindowSize(listingWindow),
		grpc.WithInitialConnWindowSize(listingWindow),
	)}
}
