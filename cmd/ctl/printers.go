package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
	"k8s.io/client-go/util/jsonpath"
)

// Output formats (-o) besides table and json; kubectl's spellings.
const (
	formatWide       = "wide"
	formatYAML       = "yaml"
	formatName       = "name"
	formatJSONPath   = "jsonpath"
	formatGoTemplate = "go-template"
)

// outputFormats is the one list of -o values: help text, validation and
// shell completion all read it. A trailing "=" takes an argument.
var outputFormats = []struct{ name, help string }{
	{formatTable, "aligned columns for people (default)"},
	{formatWide, "the table with extra columns and nothing cut to the width"},
	{formatJSON, "the documented JSON views (docs/cli.md); NDJSON for streams"},
	{formatYAML, "the JSON views as YAML; a document per event for streams"},
	{formatName, "one name per line (service name, PID, host name)"},
	{formatJSONPath + "=", "kubectl JSONPath over the JSON view, e.g. jsonpath='{[*].pid}'"},
	{formatGoTemplate + "=", "Go text/template over the JSON view, e.g. go-template='{{range .}}{{.name}}{{\"\\n\"}}{{end}}'"},
}

func outputFormatsHelp() string {
	names := make([]string, 0, len(outputFormats))
	for _, f := range outputFormats {
		names = append(names, strings.TrimSuffix(f.name, "=")+map[bool]string{true: "=...", false: ""}[strings.HasSuffix(f.name, "=")])
	}
	return strings.Join(names, ", ")
}

// printer renders one machine-readable value: a list, an object, or (with
// stream set) one event of a watch.
type printer interface {
	print(w io.Writer, v any, stream bool) error
}

// parseFormat validates -o and returns its kind and, for the structured
// kinds other than json, its printer.
func parseFormat(s string) (string, printer, error) {
	kind, arg, hasArg := strings.Cut(s, "=")
	switch kind {
	case formatTable, formatWide, formatJSON:
		if hasArg {
			break
		}
		return kind, nil, nil
	case formatYAML:
		if !hasArg {
			return kind, yamlPrinter{}, nil
		}
	case formatName:
		if !hasArg {
			return kind, namePrinter{}, nil
		}
	case formatJSONPath:
		if arg == "" {
			return "", nil, usagef("-o jsonpath needs a template, e.g. -o jsonpath='{[*].pid}'")
		}
		jp := jsonpath.New("output")
		if err := jp.Parse(arg); err != nil {
			return "", nil, usagef("invalid -o jsonpath template %q: %v", arg, err)
		}
		return kind, templated{kind, jp.Execute}, nil
	case formatGoTemplate:
		if arg == "" {
			return "", nil, usagef("-o go-template needs a template, e.g. -o go-template='{{.hostname}}'")
		}
		t, err := template.New("output").Option("missingkey=error").Parse(arg)
		if err != nil {
			return "", nil, usagef("invalid -o go-template: %v", err)
		}
		return kind, templated{kind, t.Execute}, nil
	}
	return "", nil, usagef("invalid output format %q: use %s", s, outputFormatsHelp())
}

// generic converts a view to what encoding/json makes of it (maps, slices,
// json.Number), so templates and JSONPath see the documented keys.
func generic(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	return out, d.Decode(&out)
}

// yamlPrinter writes the JSON view as YAML with the same keys, in the same
// order: JSON is YAML, so the JSON text is parsed into a YAML node tree and
// re-emitted in block style.
type yamlPrinter struct{}

func (yamlPrinter) print(w io.Writer, v any, stream bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	blockStyle(&n)
	var buf bytes.Buffer
	if stream {
		buf.WriteString("---\n")
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes()) // one write: a reader never sees half an event
	return err
}

func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// templated runs a JSONPath or Go template over the JSON view.
type templated struct {
	format string
	exec   func(io.Writer, any) error
}

func (p templated) print(w io.Writer, v any, _ bool) error {
	g, err := generic(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := p.exec(&buf, g); err != nil {
		return usagef("-o %s: %v", p.format, err)
	}
	// JSONPath output ends its line (one line per list or event); a Go
	// template says where its own newlines go.
	if p.format == formatJSONPath && !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// named is a view with a name for -o name.
type named interface{ resourceName() string }

type namePrinter struct{}

func (namePrinter) print(w io.Writer, v any, _ bool) error {
	var names []string
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		for i := range rv.Len() {
			n, ok := rv.Index(i).Interface().(named)
			if !ok {
				return errNoNames
			}
			names = append(names, n.resourceName())
		}
	} else if n, ok := v.(named); ok {
		names = append(names, n.resourceName())
	} else {
		return errNoNames
	}
	var buf bytes.Buffer
	for _, n := range names {
		buf.WriteString(clean(n) + "\n")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

var errNoNames = usagef("-o name is not supported by this command: its result has no name; use -o json or -o jsonpath=...")

func (v processView) resourceName() string { return fmt.Sprint(v.PID) }
func (v serviceView) resourceName() string { return v.Name }
func (v controlView) resourceName() string { return v.Service.Name }
func (v heartbeatView) resourceName() string {
	return v.Hostname
}
func (v eventView) resourceName() string {
	if v.Process == nil {
		return "-"
	}
	return v.Process.resourceName()
}
func (v serviceEventView) resourceName() string { return dash(v.Name) }
func (v certView) resourceName() string         { return v.File }

// viewsOf converts the items of a listing to their views.
func viewsOf[P, V any](items []P, view func(P) V) []V {
	out := make([]V, 0, len(items))
	for _, it := range items {
		out = append(out, view(it))
	}
	return out
}

// printList prints a listing's views: one JSON array with -o json, else a
// table of header and cells.
func printList[V any](a *app, views []V, header []string, cells func(V) []string) error {
	if a.out.json() {
		return a.out.JSON(views)
	}
	t := a.out.table(header...)
	for _, v := range views {
		t.row(cells(v)...)
	}
	return t.flush()
}

// rowsOf is the table rows of a host's listing ([]V) in a fan-out.
func rowsOf[V any](cells func(V) []string) func(any) [][]string {
	return func(v any) [][]string {
		var rows [][]string
		for _, x := range v.([]V) {
			rows = append(rows, cells(x))
		}
		return rows
	}
}
