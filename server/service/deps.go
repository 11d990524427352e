package service

import (
	"slices"
	"strings"
)

// depNode is one service of a dependency graph: its name, its load-order
// group and what it depends on ("+Group" names a whole group, as on Windows).
type depNode struct {
	Name         string
	Group        string
	Dependencies []string
}

// depGraph answers "who depends on X" from the services' own dependency
// lists. The Windows backend builds it from the SCM's configurations instead
// of asking EnumDependentServices, which Wine does not implement and which
// would miss nothing the configurations do not already say. Names compare
// case-insensitively, as the SCM does.
type depGraph struct {
	names      map[string]string   // lower -> canonical name
	dependents map[string][]string // lower name -> canonical names of direct dependents
}

func newDepGraph(nodes []depNode) *depGraph {
	g := &depGraph{names: make(map[string]string, len(nodes)), dependents: make(map[string][]string)}
	groups := make(map[string][]string) // lower group -> canonical member names
	for _, n := range nodes {
		g.names[strings.ToLower(n.Name)] = n.Name
		if n.Group != "" {
			groups[strings.ToLower(n.Group)] = append(groups[strings.ToLower(n.Group)], n.Name)
		}
	}
	for _, n := range nodes {
		for _, d := range n.Dependencies {
			targets := []string{d}
			if grp, ok := strings.CutPrefix(d, "+"); ok {
				targets = groups[strings.ToLower(grp)]
			}
			for _, t := range targets {
				k := strings.ToLower(t)
				if !slices.Contains(g.dependents[k], n.Name) {
					g.dependents[k] = append(g.dependents[k], n.Name)
				}
			}
		}
	}
	for k := range g.dependents {
		slices.SortFunc(g.dependents[k], compareFold)
	}
	return g
}

func compareFold(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }

// Dependents returns the direct dependents of name, sorted.
func (g *depGraph) Dependents(name string) []string {
	return slices.Clone(g.dependents[strings.ToLower(name)])
}

// StopOrder returns every service that depends on name, directly or not and
// for which active reports true, in an order that stops each service before
// anything it depends on: the reverse of a valid start order. name itself is
// not included. Cycles (which the SCM refuses to create) are cut.
func (g *depGraph) StopOrder(name string, active func(string) bool) []string {
	var order []string
	seen := map[string]bool{strings.ToLower(name): true}
	var visit func(n string)
	visit = func(n string) {
		for _, d := range g.dependents[strings.ToLower(n)] {
			k := strings.ToLower(d)
			if seen[k] {
				continue
			}
			seen[k] = true
			visit(d) // d's own dependents stop before d
			if active(d) {
				order = append(order, d)
			}
		}
	}
	visit(name)
	return order
}
