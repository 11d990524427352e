package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// termWidth is the visible width of the console window on f, 0 if unknown.
func termWidth(f *os.File) int {
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info); err != nil {
		return 0
	}
	return int(info.Window.Right-info.Window.Left) + 1
}
