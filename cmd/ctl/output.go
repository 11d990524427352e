package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// Output formats (-o).
const (
	formatTable = "table"
	formatJSON  = "json"
)

// output writes results to stdout: tables for people; JSON, YAML, names or
// templates for scripts.
type output struct {
	w      io.Writer
	format string  // the kind of -o: table, wide, json, yaml, name, jsonpath, go-template
	p      printer // the structured printer for kinds other than table, wide and json
	// width is where table lines are cut (the terminal's, COLUMNS or
	// --width); 0 never cuts. -o wide never cuts either.
	width     int
	noHeaders bool
	now       func() time.Time
	loc       *time.Location
}

// json reports whether the result goes out machine-readable (every -o but
// table and wide): commands then hand their view to JSON or JSONLine, which
// render it in the chosen format.
func (o *output) json() bool { return o.format != formatTable && o.format != formatWide }

// wide reports -o wide: commands add their extra columns.
func (o *output) wide() bool { return o.format == formatWide }

// JSON writes one document (a list or an object) in the chosen format;
// for -o json, indented JSON.
func (o *output) JSON(v any) error {
	if o.p != nil {
		return o.p.print(o.w, v, false)
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
		// A list prints one compact element per line: as valid and as easy
		// to grep or read as an indented one, at a third of the cost
		// (indenting was most of `ctl ps -o json`'s own CPU time).
		out, err := encodeList(rv)
		if err != nil {
			return err
		}
		_, err = o.w.Write(out)
		return err
	}
	var b bytes.Buffer
	enc := jsonEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := o.w.Write(b.Bytes())
	return err
}

// JSONLine writes one event of a stream: for -o json one compact object
// per line (NDJSON), in one write so concurrent readers of a pipe never see
// half a line; a YAML document, a name or a template's output otherwise.
func (o *output) JSONLine(v any) error {
	if o.p != nil {
		return o.p.print(o.w, v, true)
	}
	var b bytes.Buffer
	if err := jsonEncoder(&b).Encode(v); err != nil {
		return err
	}
	_, err := o.w.Write(b.Bytes())
	return err
}

// jsonEncoder writes ctl's JSON: '<', '>' and '&' as they are (they are
// common in command lines and log lines, and the output is not HTML).
func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// Line writes one line of text, cut to the terminal width.
func (o *output) Line(s string) error {
	_, err := io.WriteString(o.w, o.cut(s)+"\n")
	return err
}

// Header writes the header line of a streamed table, unless --no-headers.
func (o *output) Header(s string) error {
	if o.noHeaders {
		return nil
	}
	return o.Line(s)
}

// cut shortens a line to the width; the last column (COMMAND,
// DESCRIPTION) is the one that loses its tail.
func (o *output) cut(s string) string {
	if o.width <= 0 || o.wide() || utf8.RuneCountInString(s) <= o.width {
		return s
	}
	r := []rune(s)
	return string(r[:o.width-1]) + "…"
}

// table renders aligned columns under a header row.
type table struct {
	o   *output
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func (o *output) table(headers ...string) *table {
	t := &table{o: o}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 8, 2, ' ', 0)
	if !o.noHeaders {
		t.row(headers...)
	}
	return t
}

// row adds one row; cells are sanitized so that a tab, newline or escape
// sequence in a process name cannot break the layout or the terminal.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if i > 0 {
			_, _ = t.tw.Write([]byte{'\t'})
		}
		_, _ = t.tw.Write([]byte(clean(c)))
	}
	_, _ = t.tw.Write([]byte{'\n'}) // into a bytes.Buffer: cannot fail
}

func (t *table) flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	if t.buf.Len() == 0 {
		return nil // no rows and no header
	}
	for _, l := range strings.Split(strings.TrimSuffix(t.buf.String(), "\n"), "\n") {
		if err := t.o.Line(strings.TrimRight(l, " ")); err != nil {
			return err
		}
	}
	return nil
}

// kv prints "key:  value" lines with the values aligned.
func (o *output) kv(pairs [][2]string) error {
	w := 0
	for _, p := range pairs {
		w = max(w, len(p[0])+1)
	}
	for _, p := range pairs {
		if err := o.Line(fmt.Sprintf("%-*s %s", w, p[0]+":", clean(p[1]))); err != nil {
			return err
		}
	}
	return nil
}

// clean escapes control and non-printable characters (Go syntax, e.g.
// \t, \x1b) so untrusted strings stay on one line and inert.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// humanBytes formats a size with binary units, ps-style: 512B, 4.0K, 12.3M.
func humanBytes(n uint64) string {
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	v, units := float64(n)/1024, "KMGTPE"
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v >= 999.95 && i < len(units)-1 { // avoid "1024.0K"
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + string(units[i])
}

// humanDuration is a compact duration: 45s, 12m3s, 5h2m, 3d4h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + humanDuration(-d)
	}
	switch {
	case d < time.Second:
		return d.Round(time.Microsecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	d = d.Round(time.Hour)
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// shortTime is ps's STARTED column: the time today, else the date.
func (o *output) shortTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.In(o.loc)
	now := o.now().In(o.loc)
	switch {
	case now.Sub(t) < 24*time.Hour && t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04:05")
	case t.Year() == now.Year():
		return t.Format("Jan02")
	}
	return t.Format("2006")
}

// dash shows an absent value in a table cell.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clock formats an event time (RFC 3339) for a watch table, in the output's
// time zone; "-" when there is none.
func (a *app) clock(rfc3339 string) string {
	if t := parseTime(rfc3339); !t.IsZero() {
		return t.In(a.out.loc).Format("15:04:05.000")
	}
	return "-"
}
