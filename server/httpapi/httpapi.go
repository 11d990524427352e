// Package httpapi is the JSON-over-HTTPS face of the gRPC API. Every request
// is served by the gRPC server's own HTTP handler (grpc.Server.ServeHTTP), in
// process: Vanguard transcodes REST and Connect calls to gRPC, and server
// streams are relayed as NDJSON by this package. The gRPC handler takes the
// peer's identity from the request's TLS state, so an HTTP caller meets the
// same interceptor chain — authentication, authorization, audit, limits —
// with its own certificate; there is no internal hop and nothing reachable
// here that gRPC would refuse.
package httpapi

import (
	_ "embed" // openapi document
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// OpenAPIPath is where the OpenAPI (v2) document of the API is served.
const OpenAPIPath = "/openapi.json"

//go:embed openapi/remotectl.swagger.json
var openAPI []byte

// OpenAPI returns the committed OpenAPI document generated from the protos
// and routes.yaml.
func OpenAPI() []byte { return openAPI }

// Config is what NewHandler needs.
type Config struct {
	// GRPC serves every call.
	GRPC *grpc.Server
	// MaxRequestBytes bounds a request body (the gRPC receive limit);
	// MaxResponseBytes bounds one response message (the gRPC send limit).
	MaxRequestBytes, MaxResponseBytes int64
}

// NewHandler returns the HTTP handler of the API: the REST routes of
// routes.yaml, every method at POST /<package.Service>/<Method> (JSON
// body; Connect, gRPC and gRPC-Web clients too), and the OpenAPI document.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.GRPC == nil || cfg.MaxRequestBytes <= 0 || cfg.MaxResponseBytes <= 0 {
		return nil, fmt.Errorf("httpapi: GRPC and the message limits are required")
	}
	rules, err := Rules()
	if err != nil {
		return nil, err
	}
	marshal := protojson.MarshalOptions{EmitUnpopulated: true}
	transcoder, err := vanguardgrpc.NewTranscoder(cfg.GRPC,
		vanguard.WithRules(unaryRules(rules)...),
		vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
			// Unknown fields are an error: a misspelt filter must not
			// silently match everything.
			return &vanguard.JSONCodec{MarshalOptions: protojson.MarshalOptions{Resolver: res, EmitUnpopulated: true},
				UnmarshalOptions: protojson.UnmarshalOptions{Resolver: res}}
		}),
		vanguard.WithDefaultServiceOptions(vanguard.WithMaxMessageBufferBytes(uint32(cfg.MaxResponseBytes))), //nolint:gosec // a few MiB
	)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+OpenAPIPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	bound := map[string]bool{}
	for _, r := range rules {
		md, _ := methodOf(r.GetSelector()) // checked by Rules
		bound[fullMethod(md)] = true
		if !isServerStream(md) {
			continue
		}
		for _, b := range append([]*annotations.HttpRule{r}, r.GetAdditionalBindings()...) {
			verb, path := pattern(b)
			muxPath, vars, err := wildcards(path)
			if err != nil {
				return nil, fmt.Errorf("httpapi: %s: %w", r.GetSelector(), err)
			}
			h, err := newStream(cfg, md, b.GetBody() == "*", vars, marshal)
			if err != nil {
				return nil, err
			}
			mux.Handle(verb+" "+muxPath, h)
		}
	}
	// Server streams without a rule: NDJSON for a JSON body at the gRPC
	// path; other protocols (gRPC, Connect) go on to Vanguard.
	for svc, info := range cfg.GRPC.GetServiceInfo() {
		for _, m := range info.Methods {
			path := "/" + svc + "/" + m.Name
			if bound[path] || !m.IsServerStream || m.IsClientStream {
				continue
			}
			md, err := methodOf(svc + "." + m.Name)
			if err != nil {
				continue // not in the registry (no descriptor): Vanguard answers
			}
			h, err := newStream(cfg, md, true, nil, marshal)
			if err != nil {
				return nil, err
			}
			mux.Handle("POST "+path, byContentType(h, transcoder))
		}
	}
	mux.Handle("/", transcoder)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxRequestBytes)
		}
		mux.ServeHTTP(w, r)
	}), nil
}

func unaryRules(rules []*annotations.HttpRule) []*annotations.HttpRule {
	var out []*annotations.HttpRule
	for _, r := range rules {
		if md, err := methodOf(r.GetSelector()); err == nil && !isServerStream(md) {
			out = append(out, r)
		}
	}
	return out
}

func newStream(cfg Config, md protoreflect.MethodDescriptor, body bool, vars map[string]string, m protojson.MarshalOptions) (*streamHandler, error) {
	in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return nil, fmt.Errorf("httpapi: %s: %w", md.FullName(), err)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, fmt.Errorf("httpapi: %s: %w", md.FullName(), err)
	}
	return &streamHandler{grpc: cfg.GRPC, method: fullMethod(md), in: in, out: out, body: body, vars: vars,
		maxRequest: cfg.MaxRequestBytes, marshal: m}, nil
}

// byContentType sends JSON (or body-less) requests to json, the rest to other.
func byContentType(json, other http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if ct == "" || strings.HasPrefix(ct, "application/json") {
			json.ServeHTTP(w, r)
			return
		}
		other.ServeHTTP(w, r)
	})
}

var fieldVar = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_.]*)\}$`)

// wildcards turns a path template into a ServeMux pattern: whole-segment
// {field.path} variables only (stream routes need no more so far).
func wildcards(tmpl string) (string, map[string]string, error) {
	segs := strings.Split(tmpl, "/")
	vars := map[string]string{}
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		m := fieldVar.FindStringSubmatch(s)
		if m == nil {
			return "", nil, fmt.Errorf("stream route %q: only whole-segment {field} variables are supported", tmpl)
		}
		name := strings.ReplaceAll(m[1], ".", "_")
		vars[name] = m[1]
		segs[i] = "{" + name + "}"
	}
	return strings.Join(segs, "/"), vars, nil
}
