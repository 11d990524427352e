package httpapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

func TestRulesResolveAndCoverTheAPI(t *testing.T) {
	rules, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]bool{}
	for _, r := range rules {
		bound[r.GetSelector()] = true
	}
	// Every v1 method that exists today has a REST route; a method added
	// later is served at POST /<service>/<method> until it gets one.
	for _, fd := range []protoreflect.FileDescriptor{pb.File_remotectl_v1_agent_proto, pb.File_remotectl_v1_process_proto, pb.File_remotectl_v1_service_proto} {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				if name := string(sd.Methods().Get(j).FullName()); !bound[name] {
					t.Logf("no REST route for %s (served at POST /%s/%s)", name, sd.FullName(), sd.Methods().Get(j).Name())
				}
			}
		}
	}
	for _, want := range []string{"remotectl.v1.AgentService.Heartbeat", "remotectl.v1.ProcessService.ListProcesses",
		"remotectl.v1.ProcessService.WatchProcesses", "remotectl.v1.ServiceManager.StopService"} {
		if !bound[want] {
			t.Errorf("no route for %s", want)
		}
	}
}

func TestParseRulesRefusesBadRules(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown method", "http:\n  rules:\n    - selector: remotectl.v1.AgentService.Nope\n      get: /v1/nope\n", "Nope"},
		{"not a method", "http:\n  rules:\n    - selector: remotectl.v1.HeartbeatRequest\n      get: /v1/x\n", "not a method"},
		{"no verb", "http:\n  rules:\n    - selector: remotectl.v1.AgentService.Heartbeat\n", "needs a method"},
		{"relative path", "http:\n  rules:\n    - selector: remotectl.v1.AgentService.Heartbeat\n      get: v1/x\n", "absolute"},
		{"unknown key", "http:\n  rules:\n    - selector: remotectl.v1.AgentService.Heartbeat\n      gett: /v1/x\n", "gett"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseRules([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// fakeEndpoint records what the router handed it.
type fakeEndpoint struct {
	name string
	got  *[]string
}

func (f fakeEndpoint) serve(w http.ResponseWriter, _ *http.Request, vars map[string]string) {
	keys := slices.Sorted(maps.Keys(vars))
	out := f.name
	for _, k := range keys {
		out += " " + k + "=" + vars[k]
	}
	*f.got = append(*f.got, out)
	w.WriteHeader(http.StatusNoContent)
}

func TestRouterTemplates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		routes  [][2]string // method, template
		req     string      // "METHOD /path"
		want    string      // template and vars the endpoint saw; "" for a 404
		wantErr string
	}{
		{name: "literal", routes: [][2]string{{"GET", "/v1/heartbeat"}}, req: "GET /v1/heartbeat", want: "/v1/heartbeat"},
		{name: "literal with colon", routes: [][2]string{{"GET", "/v1/processes:watch"}, {"GET", "/v1/processes"}}, req: "GET /v1/processes:watch", want: "/v1/processes:watch"},
		{name: "variable", routes: [][2]string{{"GET", "/v1/services/{name}"}}, req: "GET /v1/services/ssh.service", want: "/v1/services/{name} name=ssh.service"},
		{name: "escaped variable", routes: [][2]string{{"GET", "/v1/services/{name}"}}, req: "GET /v1/services/Print%20Spooler", want: "/v1/services/{name} name=Print Spooler"},
		{name: "verbs share a pattern", routes: [][2]string{{"POST", "/v1/services/{name}:start"}, {"POST", "/v1/services/{name}:stop"}},
			req: "POST /v1/services/nginx.service:stop", want: "/v1/services/{name}:stop name=nginx.service"},
		{name: "verb and no verb", routes: [][2]string{{"GET", "/v1/services/{name}"}, {"GET", "/v1/services/{name}:deps"}},
			req: "GET /v1/services/cron", want: "/v1/services/{name} name=cron"},
		{name: "colon inside the name", routes: [][2]string{{"POST", "/v1/services/{name}:stop"}}, req: "POST /v1/services/a:b:stop", want: "/v1/services/{name}:stop name=a:b"},
		{name: "unknown verb", routes: [][2]string{{"POST", "/v1/services/{name}:stop"}}, req: "POST /v1/services/nginx:kill"},
		{name: "wrong method", routes: [][2]string{{"POST", "/v1/services/{name}:stop"}}, req: "GET /v1/services/nginx:stop"},
		{name: "nested field", routes: [][2]string{{"GET", "/v1/x/{filter.user}/y"}}, req: "GET /v1/x/root/y", want: "/v1/x/{filter.user}/y filter.user=root"},
		{name: "partial segment variable", routes: [][2]string{{"GET", "/v1/x-{name}"}}, wantErr: "whole-segment"},
		{name: "multi-segment variable", routes: [][2]string{{"GET", "/v1/{name=a/*}"}}, wantErr: "whole-segment"},
		{name: "bound twice", routes: [][2]string{{"GET", "/v1/a"}, {"GET", "/v1/a"}}, wantErr: "bound twice"},
		{name: "conflicting patterns", routes: [][2]string{{"GET", "/v1/{a}/x"}, {"GET", "/v1/x/{b}"}}, wantErr: "conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			rt := newRouter()
			var err error
			for _, r := range tc.routes {
				if err = rt.add(r[0], r[1], fakeEndpoint{name: r[1], got: &got}); err != nil {
					break
				}
			}
			mux := http.NewServeMux()
			if err == nil {
				err = rt.register(mux)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			method, path, _ := strings.Cut(tc.req, " ")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			if tc.want == "" {
				if len(got) != 0 || rec.Code < 400 {
					t.Fatalf("%s: routed to %v (HTTP %d), want a refusal", tc.req, got, rec.Code)
				}
				return
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("%s routed to %q, want %q", tc.req, got, tc.want)
			}
		})
	}
}

func TestSetFieldFromURL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		query   map[string][]string
		want    proto.Message
		wantErr string
	}{
		{name: "nested JSON name", query: map[string][]string{"filter.nameGlob": {"ssh*"}},
			want: &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "ssh*"}}},
		{name: "proto name", query: map[string][]string{"filter.name_glob": {"ssh*"}},
			want: &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "ssh*"}}},
		{name: "bool", query: map[string][]string{"includeExisting": {"true"}}, want: &pb.WatchProcessesRequest{IncludeExisting: true}},
		{name: "repeated enum and int", query: map[string][]string{"fields": {"PROCESS_FIELD_NAME", "PROCESS_FIELD_CPU"}, "filter.pids": {"1", "42"}},
			want: &pb.WatchProcessesRequest{Fields: []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME, pb.ProcessField_PROCESS_FIELD_CPU},
				Filter: &pb.ProcessFilter{Pids: []int32{1, 42}}}},
		{name: "optional int and uint64", query: map[string][]string{"filter.ppid": {"1"}, "resumeAfterSequence": {"18446744073709551615"}},
			want: &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{Ppid: proto.Int32(1)}, ResumeAfterSequence: 18446744073709551615}},
		{name: "unknown field", query: map[string][]string{"filter.nme": {"x"}}, wantErr: `no field "nme"`},
		{name: "bad bool", query: map[string][]string{"includeExisting": {"yes please"}}, wantErr: "true or false"},
		{name: "bad enum", query: map[string][]string{"fields": {"PROCESS_FIELD_SHOE_SIZE"}}, wantErr: "PROCESS_FIELD_SHOE_SIZE"},
		{name: "int overflow", query: map[string][]string{"filter.pids": {"99999999999"}}, wantErr: "filter.pids"},
		{name: "two values for one", query: map[string][]string{"includeExisting": {"true", "false"}}, wantErr: "one value"},
		{name: "through a scalar", query: map[string][]string{"includeExisting.x": {"1"}}, wantErr: "not a message field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &relay{in: (&pb.WatchProcessesRequest{}).ProtoReflect().Type(), maxRequest: 1 << 10}
			r := httptest.NewRequest(http.MethodGet, "/x?"+url.Values(tc.query).Encode(), nil)
			m := h.in.New()
			err := h.decode(r, nil, m)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(m.Interface(), tc.want) {
				t.Fatalf("decoded %v, want %v", m.Interface(), tc.want)
			}
		})
	}
}

func TestDecodeBodyThenPath(t *testing.T) {
	h := &relay{in: (&pb.StopServiceRequest{}).ProtoReflect().Type(), body: true, maxRequest: 64}
	for _, tc := range []struct {
		name, body, wantErr string
		want                *pb.StopServiceRequest
	}{
		{name: "path wins over body", body: `{"name":"other","stopDependents":true,"timeout":"5s"}`,
			want: &pb.StopServiceRequest{Name: "nginx.service", StopDependents: true, Timeout: durationpb.New(5 * time.Second)}},
		{name: "empty body", body: ``, want: &pb.StopServiceRequest{Name: "nginx.service"}},
		{name: "unknown field", body: `{"stopDependants":true}`, wantErr: "stopDependants"},
		{name: "too large", body: `{"name":"` + strings.Repeat("x", 100) + `"}`, wantErr: "exceeds 64 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/services/nginx.service:stop", strings.NewReader(tc.body))
			m := h.in.New()
			err := h.decode(r, map[string]string{"name": "nginx.service"}, m)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !proto.Equal(m.Interface(), tc.want) {
				t.Fatalf("decoded %v (%v), want %v", m.Interface(), err, tc.want)
			}
		})
	}
}

func TestHTTPStatusOfCodes(t *testing.T) {
	// The mapping, and every code has one.
	for c, want := range map[codes.Code]int{codes.OK: 200, codes.InvalidArgument: 400, codes.Unauthenticated: 401, codes.PermissionDenied: 403,
		codes.NotFound: 404, codes.ResourceExhausted: 429, codes.Unavailable: 503, codes.DeadlineExceeded: 504, codes.Code(99): 500} {
		if got := HTTPStatus(c); got != want {
			t.Errorf("%v -> %d, want %d", c, got, want)
		}
	}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if HTTPStatus(c) == 0 {
			t.Errorf("%v has no HTTP status", c)
		}
	}
}

// TestOpenAPIDocumentsEveryRoute: the committed document (make proto) and
// the routes served come from the same routes.yaml.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	rules, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		for _, b := range append([]*annotations.HttpRule{r}, r.GetAdditionalBindings()...) {
			verb, path := pattern(b)
			if _, ok := doc.Paths[path][strings.ToLower(verb)]; !ok {
				t.Errorf("%s %s (%s) is not in the OpenAPI document: run make proto", verb, path, r.GetSelector())
			}
		}
	}
}

func TestNewHandlerServesOpenAPIAndRefusesUnknownRoutes(t *testing.T) {
	gs := grpc.NewServer()
	pb.RegisterAgentServiceServer(gs, pb.UnimplementedAgentServiceServer{})
	h, err := NewHandler(Config{GRPC: gs, MaxRequestBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, OpenAPIPath, nil))
	if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) || rec.Body.Len() < 1000 {
		t.Fatalf("GET %s: HTTP %d, %d bytes", OpenAPIPath, rec.Code, rec.Body.Len())
	}
	// A bound method is served on its route and at its gRPC path; both
	// reach the gRPC server (which answers UNIMPLEMENTED here).
	for _, req := range []*http.Request{httptest.NewRequest(http.MethodGet, "/v1/heartbeat", nil),
		httptest.NewRequest(http.MethodPost, "/remotectl.v1.AgentService/Heartbeat", strings.NewReader("{}"))} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var st struct{ Code int }
		if rec.Code != http.StatusNotImplemented || json.Unmarshal(rec.Body.Bytes(), &st) != nil || st.Code != int(codes.Unimplemented) {
			t.Errorf("%s %s: HTTP %d %s, want 501 from the gRPC server", req.Method, req.URL.Path, rec.Code, rec.Body)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/nothing", nil))
	var st struct{ Code int }
	if rec.Code != 404 || json.Unmarshal(rec.Body.Bytes(), &st) != nil || st.Code != int(codes.NotFound) {
		t.Fatalf("unknown route: HTTP %d %s", rec.Code, rec.Body)
	}
}
