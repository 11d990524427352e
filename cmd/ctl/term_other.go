//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package main

import "os"

// termWidth is unknown here; ctl falls back to $COLUMNS or 80.
func termWidth(*os.File) int { return 0 }
