package service

import (
	"slices"
	"testing"
)

func TestDepGraph(t *testing.T) {
	// Web depends on DB and Cache; Report depends on Web; Cache depends on
	// the group "Net", whose member is Dns; Idle depends on DB but is stopped.
	g := newDepGraph([]depNode{
		{Name: "DB"},
		{Name: "Dns", Group: "Net"},
		{Name: "Cache", Dependencies: []string{"+net"}},
		{Name: "Web", Dependencies: []string{"db", "Cache"}},
		{Name: "Report", Dependencies: []string{"WEB"}},
		{Name: "Idle", Dependencies: []string{"DB"}},
	})
	if got := g.Dependents("db"); !slices.Equal(got, []string{"Idle", "Web"}) {
		t.Errorf("Dependents(db) = %q", got)
	}
	if got := g.Dependents("Dns"); !slices.Equal(got, []string{"Cache"}) {
		t.Errorf("Dependents(Dns) via group = %q", got)
	}
	if got := g.Dependents("Report"); len(got) != 0 {
		t.Errorf("Dependents(Report) = %q, want none", got)
	}
	active := func(n string) bool { return n != "Idle" }
	order := g.StopOrder("Dns", active)
	if !slices.Equal(order, []string{"Report", "Web", "Cache"}) {
		t.Errorf("StopOrder(Dns) = %q", order)
	}
	order = g.StopOrder("DB", active)
	if !slices.Equal(order, []string{"Report", "Web"}) {
		t.Errorf("StopOrder(DB) = %q (Idle is stopped and must be left out)", order)
	}
	// Every service comes before all it depends on.
	pos := map[string]int{}
	for i, n := range g.StopOrder("Dns", func(string) bool { return true }) {
		pos[n] = i
	}
	if pos["Report"] > pos["Web"] || pos["Web"] > pos["Cache"] {
		t.Errorf("stop order violates dependencies: %v", pos)
	}
}

func TestDepGraphCycle(t *testing.T) {
	g := newDepGraph([]depNode{{Name: "A", Dependencies: []string{"B"}}, {Name: "B", Dependencies: []string{"A"}}})
	if got := g.StopOrder("A", func(string) bool { return true }); !slices.Equal(got, []string{"B"}) {
		t.Errorf("StopOrder on a cycle = %q", got)
	}
}
