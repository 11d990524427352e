package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestLogs(t *testing.T, dir string, lim Limits) *Logs {
	t.Helper()
	l, err := New(Config{Allow: []string{dir + "/**"}, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// collect reads entries until want lines arrived or ctx ends.
func collect(ctx context.Context, t testing.TB, s Stream, want int) []Entry {
	t.Helper()
	var got []Entry
	for len(got) < want {
		es, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d entries: %v", len(got), want, err)
		}
		got = append(got, es...)
	}
	return got
}

func checkSequence(t testing.TB, got []Entry, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("got %d entries, want %d", len(got), n)
	}
	for i, e := range got {
		if want := fmt.Sprintf("line %06d", i); e.Message != want {
			t.Fatalf("entry %d = %q, want %q (lost, duplicated or reordered)", i, e.Message, want)
		}
	}
}

// rotations are what logrotate does, run between two writes of the writer.
var rotations = map[string]func(t testing.TB, path string){
	"rename+create": func(t testing.TB, path string) {
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "")
	},
	"copytruncate": func(t testing.TB, path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".1", data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	},
	"delete+create": func(t testing.TB, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, "")
	},
}

// TestFollowThroughRotation writes 2000 lines with a rotation in the
// middle while a follower reads; every line must arrive once, in order.
func TestFollowThroughRotation(t *testing.T) {
	for name, rotate := range rotations {
		t.Run(name, func(t *testing.T) {
			dir := testDir(t)
			path := filepath.Join(dir, "app.log")
			appendFile(t, path, "old line before the follow\n")
			l := newTestLogs(t, dir, Limits{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			const n = 2000
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n; i++ {
					if i == n/2 {
						rotate(t, path)
					}
					appendFile(t, path, fmt.Sprintf("line %06d\n", i))
				}
			}()
			got := collect(ctx, t, s, n)
			wg.Wait()
			checkSequence(t, got, n)
		})
	}
}

// TestCopyTruncateLaggingReader: the reader has not read the last lines
// when the file is copied and truncated; it must find them in the copy.
func TestCopyTruncateLaggingReader(t *testing.T) {
	dir := testDir(t)
	path := filepath.Join(dir, "app.log")
	appendFile(t, path, "")
	l := newTestLogs(t, dir, Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendFile(t, path, "line 000000\n")
	got := collect(ctx, t, s, 1)
	appendFile(t, path, "line 000001\nline 000002\nline 0000")
	rotations["copytruncate"](t, path)
	appendFile(t, path, "line 000003\n")
	got = append(got, collect(ctx, t, s, 3)...)
	want := []string{"line 000000", "line 000001", "line 000002", "line 0000", "line 000003"}
	got = append(got, collect(ctx, t, s, len(want)-len(got))...)
	for i, w := range want {
		if got[i].Message != w {
			t.Fatalf("entry %d = %q, want %q", i, got[i].Message, w)
		}
	}
}

func TestLinesPartialLongInvalidLate(t *testing.T) {
	dir := testDir(t)
	path := filepath.Join(dir, "late.log")
	l := newTestLogs(t, dir, Limits{MaxLineBytes: 16})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The file does not exist yet: the follow waits for it.
	s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendFile(t, path, "partial ")
	appendFile(t, path, "line\r\n"+strings.Repeat("x", 40)+"\nbad \xff byte\n")
	got := collect(ctx, t, s, 3)
	cases := []struct {
		msg       string
		truncated bool
		invalid   bool
	}{
		{"partial line", false, false},
		{strings.Repeat("x", 16), true, false},
		{"bad \uFFFD byte", false, true},
	}
	for i, c := range cases {
		e := got[i]
		if e.Message != c.msg || e.Truncated != c.truncated || e.InvalidUTF8 != c.invalid {
			t.Errorf("entry %d = %q truncated=%v invalid=%v, want %q %v %v", i, e.Message, e.Truncated, e.InvalidUTF8, c.msg, c.truncated, c.invalid)
		}
		if e.Source != path || e.Cursor == "" {
			t.Errorf("entry %d: source %q cursor %q", i, e.Source, e.Cursor)
		}
	}
}

// TestResumeAfterRotation: a follower disconnects, the file is rotated and
// written to, and a new follow with the last cursor continues with the
// rest of the old file, then the new one.
func TestResumeAfterRotation(t *testing.T) {
	for name, rotate := range rotations {
		if name == "delete+create" {
			continue // the rest of a deleted file is gone
		}
		t.Run(name, func(t *testing.T) {
			dir := testDir(t)
			path := filepath.Join(dir, "app.log")
			appendFile(t, path, "")
			l := newTestLogs(t, dir, Limits{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				appendFile(t, path, fmt.Sprintf("line %06d\n", i))
			}
			got := collect(ctx, t, s, 5)
			_ = s.Close()
			for i := 5; i < 8; i++ {
				appendFile(t, path, fmt.Sprintf("line %06d\n", i))
			}
			rotate(t, path)
			for i := 8; i < 10; i++ {
				appendFile(t, path, fmt.Sprintf("line %06d\n", i))
			}
			s, err = l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}, Cursor: got[4].Cursor})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got = append(got, collect(ctx, t, s, 5)...)
			checkSequence(t, got, 10)
		})
	}
}

func TestReadLastLines(t *testing.T) {
	dir := testDir(t)
	path := filepath.Join(dir, "r.log")
	var b strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "line %06d\n", i)
	}
	appendFile(t, path, b.String()+"unterminated")
	l := newTestLogs(t, dir, Limits{})
	cases := []struct {
		name  string
		lines int
		f     Filter
		want  []string
	}{
		{"last 3", 3, Filter{}, []string{"line 000098", "line 000099", "unterminated"}},
		{"grep", 2, Filter{Include: []string{`0000[45]\d`}}, []string{"line 000058", "line 000059"}},
		{"exclude", 2, Filter{Exclude: []string{"unterm", "99"}}, []string{"line 000097", "line 000098"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, cursor, err := l.Read(context.Background(), ReadRequest{Source: Source{Kind: KindFile, Path: path}, Lines: c.lines, Filter: c.f})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Message)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			c, err := parseFileCursor(cursor)
			if err != nil || c.off != int64(b.Len()) {
				t.Fatalf("cursor %q (%v): want the offset after the last complete line, %d", cursor, err, b.Len())
			}
		})
	}
}

// TestFollowGlobPicksUpNewFiles: a glob follow reads files that appear
// after it started from their first line, and keeps the existing ones.
func TestFollowGlobPicksUpNewFiles(t *testing.T) {
	dir := testDir(t)
	appendFile(t, filepath.Join(dir, "a.log"), "old a\n")
	l := newTestLogs(t, dir, Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: filepath.Join(dir, "*.log")}, Lines: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := collect(ctx, t, s, 1); got[0].Message != "old a" {
		t.Fatalf("backlog %q", got[0].Message)
	}
	appendFile(t, filepath.Join(dir, "b.log"), "first b\nsecond b\n")
	appendFile(t, filepath.Join(dir, "a.log"), "new a\n")
	appendFile(t, filepath.Join(dir, "c.txt"), "not matched\n")
	got := map[string]string{}
	for _, e := range collect(ctx, t, s, 3) {
		got[e.Message] = filepath.Base(e.Source)
	}
	want := map[string]string{"first b": "b.log", "second b": "b.log", "new a": "a.log"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestRenamedFileStillWritten: after logrotate's rename and create, the
// application writes to the renamed file until it reopens its log; those
// lines are read too.
func TestRenamedFileStillWritten(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Go's os.OpenFile does not share delete: a Windows writer holding its log open blocks the rename itself")
	}
	dir := testDir(t)
	path := filepath.Join(dir, "app.log")
	old, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	l := newTestLogs(t, dir, Limits{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write := func(f *os.File, line string) {
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	write(old, "old 1")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "new 1\n") // another writer already uses the new file
	got := collect(ctx, t, s, 2)   // the reader has switched to the new file
	write(old, "old 2")            // the application has not reopened yet
	appendFile(t, path, "new 2\n")
	got = append(got, collect(ctx, t, s, 2)...)
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Message)
	}
	if strings.Join(msgs, ",") != "old 1,new 1,old 2,new 2" {
		t.Fatalf("got %q", msgs)
	}
}
