package main

import (
	"io"
	"os"
	"strconv"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// stdoutWidth is where table lines are cut by default: the terminal's width
// when stdout is one; otherwise COLUMNS when set, which watch(1) exports to
// the commands it runs so that `watch ctl ps` fits its screen. Plain pipes
// (no COLUMNS) are never cut.
func (a *app) stdoutWidth(stdout io.Writer) int {
	columns, err := strconv.Atoi(a.env("COLUMNS"))
	if err != nil || columns <= 0 {
		columns = 0
	}
	f, ok := stdout.(*os.File)
	if !ok || !isTerminal(f) {
		return columns
	}
	if columns > 0 {
		return columns
	}
	if w := termWidth(f); w > 0 {
		return w
	}
	return 80
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// bindOutputFlags adds the global flags that shape tables.
func (a *app) bindOutputFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.BoolVar(&a.g.noHeaders, "no-headers", false, "omit the header line of tables")
	pf.IntVar(&a.g.width, "width", 0, "cut table lines to `N` columns (default: the terminal's, or $COLUMNS; 0: never); -o wide never cuts")
}
