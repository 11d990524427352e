package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// completions runs `ctl __complete args...` and returns the offered values
// (descriptions dropped) and the directive line.
func completions(t *testing.T, env map[string]string, args ...string) ([]string, string) {
	t.Helper()
	_, r := runApp(t, env, append([]string{"__complete"}, args...)...)
	if r.code != exitOK {
		t.Fatalf("__complete %v: exit %d, stderr %q", args, r.code, r.stderr)
	}
	var values []string
	directive := ""
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if strings.HasPrefix(l, ":") {
			directive = l
			continue
		}
		values = append(values, strings.SplitN(l, "\t", 2)[0])
	}
	return values, directive
}

func TestCompleteFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "--sort", ""}, "cpu,mem,memory,pid"},
		{[]string{"ps", "--sort", "m"}, "mem,memory"},
		{[]string{"ps", "-o", ""}, "table,wide,json,yaml,name,jsonpath=,go-template="},
		{[]string{"svc", "ls", "-o", "js"}, "json,jsonpath="},
		{[]string{"svc", "ls", "--state", "st"}, "starting,stopped,stopping"},
		{[]string{"svc", "watch", "--state", "f"}, "failed"},
		{[]string{"kill", "--signal", "K"}, "KILL"},
		{[]string{"ps", "--fields", "name,c"}, "name,cpu"},
		{[]string{"ps", "watch", "--fields", "name,cpu,"}, "name,cpu,exe,name,cpu,args,name,cpu,user,name,cpu,status,name,cpu,memory,name,cpu,threads"},
	} {
		got, _ := completions(t, nil, tc.args...)
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%v: got %v, want %s", tc.args, got, tc.want)
		}
	}
}

// Names come from the agent; an unreachable agent completes nothing, fast
// and without a word on stderr.
func TestCompleteFromAgent(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	env := map[string]string{"CTL_HOST": addr, "CTL_CACERT": p.CACert, "CTL_CERT": p.ClientCert, "CTL_KEY": p.ClientKey}

	pids, _ := completions(t, env, "ps", "--pid", "")
	if len(pids) < 2 || !slices.Contains(pids, "1") {
		t.Errorf("--pid offers %v, want the agent's PIDs incl. 1", pids)
	}
	users, _ := completions(t, env, "ps", "--user", "ro")
	if !slices.Contains(users, "root") && len(users) > 0 {
		t.Errorf("--user ro offers %v", users)
	}

	svcs, dir := completions(t, env, "svc", "stop", "")
	if dir != ":4" {
		t.Errorf("directive %q, want :4 (no file completion)", dir)
	}
	if serviceManagerUp(ctxTimeout(t, 10*time.Second)) {
		if !slices.Contains(svcs, "remotectl-ctl.service") {
			t.Errorf("svc stop offers %d services without remotectl-ctl.service: %v", len(svcs), svcs)
		}
	} else if len(svcs) != 0 {
		t.Errorf("no service manager, yet offered %v", svcs)
	}
	if second, _ := completions(t, env, "svc", "stop", "x", ""); len(second) != 0 {
		t.Errorf("second argument completed: %v", second)
	}

	down := map[string]string{"CTL_HOST": "127.0.0.1:1", "CTL_CACERT": p.CACert, "CTL_CERT": p.ClientCert, "CTL_KEY": p.ClientKey}
	start := time.Now()
	_, r := runApp(t, down, "__complete", "svc", "stop", "")
	// cobra's own directive note is the only stderr line: no dial error.
	if r.code != exitOK || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "Completion ended") || r.stdout != ":4\n" || time.Since(start) > completionTimeout+time.Second {
		t.Errorf("unreachable agent: exit %d stdout %q stderr %q after %s", r.code, r.stdout, r.stderr, time.Since(start))
	}
}
