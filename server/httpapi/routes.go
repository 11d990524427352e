package httpapi

import (
	_ "embed" // routes.yaml
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"gopkg.in/yaml.v3"
)

//go:embed routes.yaml
var routesYAML []byte

// Rules returns the HTTP rules of routes.yaml, each checked against the
// registered protos: an unknown selector or a malformed path is an error.
func Rules() ([]*annotations.HttpRule, error) { return parseRules(routesYAML) }

func parseRules(data []byte) ([]*annotations.HttpRule, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	// The file is a google.api.Service; only its http section matters here.
	raw, err := json.Marshal(doc["http"])
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	var h annotations.Http
	if err := protojson.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	for _, r := range h.GetRules() {
		if _, err := methodOf(r.GetSelector()); err != nil {
			return nil, err
		}
		for _, b := range append([]*annotations.HttpRule{r}, r.GetAdditionalBindings()...) {
			if verb, path := pattern(b); verb == "" || !strings.HasPrefix(path, "/") {
				return nil, fmt.Errorf("routes: %s: a rule needs a method (get, post, ...) and an absolute path", r.GetSelector())
			}
		}
	}
	return h.GetRules(), nil
}

// methodOf resolves a selector ("remotectl.v1.AgentService.Heartbeat").
func methodOf(selector string) (protoreflect.MethodDescriptor, error) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(selector))
	if err != nil {
		return nil, fmt.Errorf("routes: selector %q: %w", selector, err)
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, fmt.Errorf("routes: selector %q is not a method", selector)
	}
	return md, nil
}

// fullMethod is the gRPC path of a method ("/pkg.Service/Method").
func fullMethod(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// pattern returns a binding's HTTP method and path template.
func pattern(r *annotations.HttpRule) (string, string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		return http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		return http.MethodPut, p.Put
	case *annotations.HttpRule_Delete:
		return http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		return http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath()
	}
	return "", ""
}
