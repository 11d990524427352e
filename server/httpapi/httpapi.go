// Package httpapi is the JSON-over-HTTPS face of the gRPC API. Every call is
// served by the gRPC server's own HTTP handler (grpc.Server.ServeHTTP), in
// process: this package turns the REST request into a gRPC request and the
// gRPC response into JSON (server streams: NDJSON). The gRPC handler takes
// the peer's identity from the request's TLS state, so an HTTP caller meets
// the same interceptor chain (authentication, authorization, audit, limits)
// with its own certificate: there is no internal hop, and nothing is
// reachable here that gRPC would refuse.
package httpapi

import (
	_ "embed" // the OpenAPI document
	"fmt"
	"net/http"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// OpenAPIPath is where the OpenAPI (v2) document of the API is served.
const OpenAPIPath = "/openapi.json"

//go:embed openapi/remotectl.swagger.json
var openAPI []byte

// OpenAPI returns the committed OpenAPI document generated from the protos
// and routes.yaml (buf.gen.yaml).
func OpenAPI() []byte { return openAPI }

// Config is what NewHandler needs.
type Config struct {
	// GRPC serves every call.
	GRPC *grpc.Server
	// MaxRequestBytes bounds a request body (the gRPC receive limit).
	MaxRequestBytes int64
	// SchemaAccess decides who may read the OpenAPI document (the schema
	// gRPC reflection also describes); nil allows every caller the TLS
	// layer let in. A refusal is a gRPC status error.
	SchemaAccess func(*http.Request) error
	// Unary, when set, serves unary calls: it runs method for r through the
	// gRPC server's own interceptor chain, with decode filling the request
	// message. Server streams, and every call when it is nil, are relayed
	// through GRPC.ServeHTTP.
	Unary func(r *http.Request, method string, decode func(proto.Message) error) (proto.Message, error)
}

// NewHandler returns the HTTP handler of the API: the REST routes of
// routes.yaml, every method at POST /<package.Service>/<Method> with a JSON
// body, and the OpenAPI document at OpenAPIPath.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.GRPC == nil || cfg.MaxRequestBytes <= 0 {
		return nil, fmt.Errorf("httpapi: GRPC and MaxRequestBytes are required")
	}
	rules, err := Rules()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+OpenAPIPath, func(w http.ResponseWriter, r *http.Request) {
		if cfg.SchemaAccess != nil {
			if err := cfg.SchemaAccess(r); err != nil {
				st := status.Convert(err)
				writeError(w, st.Code(), st.Message())
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	rt := newRouter()
	for _, r := range rules {
		md, _ := methodOf(r.GetSelector()) // checked by Rules
		for _, b := range append([]*annotations.HttpRule{r}, r.GetAdditionalBindings()...) {
			verb, path := pattern(b)
			h, err := newRelay(cfg, md, b.GetBody())
			if err != nil {
				return nil, err
			}
			if err := rt.add(verb, path, h); err != nil {
				return nil, fmt.Errorf("httpapi: %s: %w", r.GetSelector(), err)
			}
		}
	}
	// Every method, with a route or not: POST /<package.Service>/<Method>
	// with the request as JSON body (a script can call a new RPC at once).
	for svc, info := range cfg.GRPC.GetServiceInfo() {
		for _, m := range info.Methods {
			path := "/" + svc + "/" + m.Name
			if m.IsClientStream {
				continue
			}
			md, err := methodOf(svc + "." + m.Name)
			if err != nil {
				continue // no descriptor registered: nothing to decode JSON with
			}
			h, err := newRelay(cfg, md, "*")
			if err != nil {
				return nil, err
			}
			if err := rt.add(http.MethodPost, path, h); err != nil {
				return nil, fmt.Errorf("httpapi: %s: %w", path, err)
			}
		}
	}
	if err := rt.register(mux); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, codes.NotFound, "no route for "+r.Method+" "+r.URL.Path+"; the routes are in "+OpenAPIPath)
	})
	return mux, nil
}

func newRelay(cfg Config, md protoreflect.MethodDescriptor, body string) (*relay, error) {
	if body != "" && body != "*" {
		return nil, fmt.Errorf("httpapi: %s: body %q: only \"*\" (the whole request) or none is supported", md.FullName(), body)
	}
	in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return nil, fmt.Errorf("httpapi: %s: %w", md.FullName(), err)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, fmt.Errorf("httpapi: %s: %w", md.FullName(), err)
	}
	return &relay{grpc: cfg.GRPC, invoke: cfg.Unary, method: fullMethod(md), in: in, out: out, body: body == "*",
		unary: !md.IsStreamingServer(), maxRequest: cfg.MaxRequestBytes,
		marshal: protojson.MarshalOptions{EmitUnpopulated: true}}, nil
}
