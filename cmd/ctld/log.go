package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// newLogger builds the daemon logger: JSON by default, human-readable
// console output when writing to a terminal. Logs never go to stdout.
func newLogger(c LogConfig) (zerolog.Logger, io.Closer, error) {
	lvl, err := zerolog.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		return zerolog.Nop(), nil, fmt.Errorf("log level %q: want trace, debug, info, warn or error", c.Level)
	}
	var out io.Writer = os.Stderr
	var closer io.Closer
	if c.File != "" {
		f, err := os.OpenFile(c.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return zerolog.Nop(), nil, fmt.Errorf("log file: %w", err)
		}
		out, closer = f, f
	}
	tty := c.File == "" && isTerminal(os.Stderr)
	if c.Format == "console" || (c.Format == "auto" && tty) {
		// Colours only for a terminal: escape codes make files unreadable.
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.RFC3339, NoColor: !tty}
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), closer, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
