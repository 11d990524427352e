// Command sleeper sleeps for the duration given as its argument (default
// 10m): a long-running process for the tests to signal, on any platform.
package main

import (
	"os"
	"time"
)

func main() {
	d := 10 * time.Minute
	if len(os.Args) > 1 {
		if v, err := time.ParseDuration(os.Args[1]); err == nil {
			d = v
		}
	}
	time.Sleep(d)
}
