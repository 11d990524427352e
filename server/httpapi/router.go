package httpapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"google.golang.org/grpc/codes"
)

// router maps the path templates of the HTTP rules onto ServeMux patterns.
// Supported: literal segments, whole-segment {field.path} variables, and a
// ":verb" after the last segment (google.api.http's custom methods, as in
// /v1/services/{name}:stop). Routes that differ only in their verb share
// one pattern and are told apart by the suffix of the last variable.
type router struct {
	groups map[string]*verbGroup // ServeMux pattern -> routes
	order  []string
}

type verbGroup struct {
	lastVar string            // wildcard of the last segment ("" when literal)
	byVerb  map[string]*route // "" for no verb
}

type route struct {
	vars map[string]string // wildcard -> request field path
	h    endpoint
}

// endpoint answers a routed request; vars are its path variables by
// request field path. *relay is the one endpoint outside tests.
type endpoint interface {
	serve(w http.ResponseWriter, r *http.Request, vars map[string]string)
}

func newRouter() *router { return &router{groups: map[string]*verbGroup{}} }

var fieldVar = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}$`)

func (rt *router) add(method, tmpl string, h endpoint) error {
	if !strings.HasPrefix(tmpl, "/") {
		return fmt.Errorf("path %q is not absolute", tmpl)
	}
	segs := strings.Split(tmpl[1:], "/")
	verb := ""
	if last := segs[len(segs)-1]; strings.HasPrefix(last, "{") {
		if i := strings.LastIndex(last, "}:"); i >= 0 {
			segs[len(segs)-1], verb = last[:i+1], last[i+2:]
		}
	}
	r := &route{vars: map[string]string{}, h: h}
	lastVar := ""
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		m := fieldVar.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("path %q: only whole-segment {field} variables are supported", tmpl)
		}
		name := strings.ReplaceAll(m[1], ".", "_")
		r.vars[name] = m[1]
		segs[i] = "{" + name + "}"
		if i == len(segs)-1 {
			lastVar = name
		}
	}
	pat := method + " /" + strings.Join(segs, "/")
	g, ok := rt.groups[pat]
	if !ok {
		g = &verbGroup{lastVar: lastVar, byVerb: map[string]*route{}}
		rt.groups[pat] = g
		rt.order = append(rt.order, pat)
	}
	if _, dup := g.byVerb[verb]; dup {
		return fmt.Errorf("%s %s is bound twice", method, tmpl)
	}
	g.byVerb[verb] = r
	return nil
}

// register adds every pattern to mux; a conflict between patterns is an
// error, not a panic.
func (rt *router) register(mux *http.ServeMux) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("routes conflict: %v", p)
		}
	}()
	for _, pat := range rt.order {
		mux.Handle(pat, rt.groups[pat])
	}
	return nil
}

func (g *verbGroup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	last, verb := "", ""
	if g.lastVar != "" {
		last = r.PathValue(g.lastVar)
		if i := strings.LastIndexByte(last, ':'); i >= 0 {
			if _, ok := g.byVerb[last[i+1:]]; ok {
				last, verb = last[:i], last[i+1:]
			}
		}
	}
	rt, ok := g.byVerb[verb]
	if !ok {
		writeError(w, codes.NotFound, "no route for "+r.Method+" "+r.URL.Path+"; the routes are in "+OpenAPIPath)
		return
	}
	fields := make(map[string]string, len(rt.vars))
	for name, field := range rt.vars {
		if name == g.lastVar {
			fields[field] = last
		} else {
			fields[field] = r.PathValue(name)
		}
	}
	rt.h.serve(w, r, fields)
}
