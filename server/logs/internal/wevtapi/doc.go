// Package wevtapi is the part of the Windows Event Log API (wevtapi.dll) that
// the logs backend uses, as typed wrappers that mkwinsyscall generates from
// the //sys lines in wevtapi_windows.go (x/sys/windows has no Evt* wrappers;
// winlogbeat's sys/wineventlog declares them the same way).
package wevtapi

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go wevtapi_windows.go
