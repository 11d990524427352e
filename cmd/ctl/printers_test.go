package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// setFormat gives a test app the printer that setup would build for -o s.
func setFormat(t *testing.T, a *app, s string) {
	t.Helper()
	kind, p, err := parseFormat(s)
	if err != nil {
		t.Fatalf("parseFormat(%q): %v", s, err)
	}
	a.out.format, a.out.p = kind, p
}

func TestStructuredFormats(t *testing.T) {
	for _, tc := range []struct{ format, want string }{
		{"name", "1\n2\n4242\n"},
		{"jsonpath={[*].pid}", "1 2 4242\n"},
		{`jsonpath={range [*]}{.pid}={.name}{"\n"}{end}`, "1=systemd\n2=kthreadd\n4242=bash\n"},
		{`go-template={{range .}}{{.pid}} {{.rss_bytes}}{{"\n"}}{{end}}`, "1 12897484\n2 0\n4242 4096\n"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			a, out, _ := testApp(formatTable, 0)
			setFormat(t, a, tc.format)
			if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// YAML carries exactly the JSON view: same keys, same values.
func TestYAMLIsTheJSONView(t *testing.T) {
	a, jout, _ := testApp(formatJSON, 0)
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	a, yout, _ := testApp(formatTable, 0)
	setFormat(t, a, "yaml")
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(jout.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(yout.Bytes(), &fromYAML); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, yout)
	}
	j, _ := json.Marshal(fromJSON)
	y, _ := json.Marshal(fromYAML)
	if !bytes.Equal(j, y) {
		t.Errorf("YAML differs from JSON:\n%s\n%s", y, j)
	}
	if strings.Contains(yout.String(), "{") {
		t.Errorf("YAML in flow style:\n%s", yout)
	}
}

func TestYAMLStreamIsOneDocumentPerEvent(t *testing.T) {
	a, out, _ := testApp(formatTable, 0)
	setFormat(t, a, "yaml")
	for _, v := range []serviceEventView{{eventHead: eventHead{Seq: 1, Type: "CHANGED"}, Name: "a"}, {eventHead: eventHead{Seq: 2, Type: "CHANGED"}, Name: "b"}} {
		if err := a.out.JSONLine(v); err != nil {
			t.Fatal(err)
		}
	}
	dec := yaml.NewDecoder(out)
	var names []string
	for {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			break
		}
		names = append(names, v["name"].(string))
	}
	if strings.Join(names, ",") != "a,b" {
		t.Errorf("documents %v in:\n%s", names, out)
	}
}

func TestParseFormatRefusals(t *testing.T) {
	for _, s := range []string{"xml", "json=x", "yaml=1", "name=x", "jsonpath=", "jsonpath={.a", "go-template=", "go-template={{.a", "table=x"} {
		_, _, err := parseFormat(s)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("parseFormat(%q) = %v, want a usage error", s, err)
		}
	}
}

func TestNameRefusedWithoutNames(t *testing.T) {
	a, _, _ := testApp(formatTable, 0)
	setFormat(t, a, "name")
	err := a.out.JSON(versionView{})
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "-o name is not supported") {
		t.Errorf("got %v", err)
	}
}

func TestNoHeaders(t *testing.T) {
	a, out, _ := testApp(formatTable, 0)
	a.out.noHeaders = true
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "1 ") {
		t.Errorf("want the 3 rows only:\n%s", out)
	}
	out.Reset()
	if err := a.out.Header("TIME TYPE"); err != nil || out.Len() != 0 {
		t.Errorf("stream header printed: %q %v", out, err)
	}
}

func TestWideNeverCuts(t *testing.T) {
	a, out, _ := testApp(formatWide, 40)
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "/sbin/init splash") || !strings.Contains(out.String(), " TIME ") {
		t.Errorf("wide table cut or without TIME:\n%s", out)
	}
	if !strings.Contains(out.String(), "00:01  /sbin/init") {
		t.Errorf("TIME of pid 1 (1.75 s) not 00:01:\n%s", out)
	}
}

// Where tables are cut: the terminal, else COLUMNS (watch(1) exports it),
// else never; --width overrides (tested through run).
func TestStdoutWidth(t *testing.T) {
	for _, tc := range []struct {
		columns string
		want    int
	}{{"", 0}, {"100", 100}, {"junk", 0}, {"-3", 0}} {
		a := newApp(&bytes.Buffer{}, &bytes.Buffer{}, envOf(map[string]string{"COLUMNS": tc.columns}))
		if got := a.stdoutWidth(&bytes.Buffer{}); got != tc.want {
			t.Errorf("COLUMNS=%q: width %d, want %d", tc.columns, got, tc.want)
		}
	}
}

// -o json lists: one compact element per line inside the array; an empty
// list is [] and a single result stays one indented object.
func TestJSONListOneElementPerLine(t *testing.T) {
	a, out, _ := testApp(formatJSON, 0)
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 || lines[0] != "[" || lines[4] != "]" || !strings.HasPrefix(lines[1], `  {"pid":1,`) || !strings.HasSuffix(lines[1], "},") {
		t.Errorf("layout:\n%s", out)
	}
	var v []map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || len(v) != 3 {
		t.Errorf("not a JSON array of 3: %v", err)
	}
	out.Reset()
	if err := a.out.JSON([]processView{}); err != nil || out.String() != "[]\n" {
		t.Errorf("empty list: %q %v", out, err)
	}
	out.Reset()
	if err := a.out.JSON(serviceView{Name: "x"}); err != nil || !strings.HasPrefix(out.String(), "{\n  \"name\": \"x\",") {
		t.Errorf("single object: %q %v", out, err)
	}
}
