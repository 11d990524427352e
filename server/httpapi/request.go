package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// decode builds the request message: the JSON body (for "body: *"
// bindings), then the query parameters, then the path variables — the
// precedence the HTTP rule spec gives them (Vanguard does the same for
// REST transcoders).
func (h *relay) decode(r *http.Request, vars map[string]string, m protoreflect.Message) error {
	if h.body && r.Body != nil {
		data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.maxRequest))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return fmt.Errorf("request body exceeds %d bytes", tooBig.Limit)
			}
			return fmt.Errorf("reading the request body: %w", err)
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := protojson.Unmarshal(data, m.Interface()); err != nil {
				return fmt.Errorf("request body: %w", err)
			}
		}
	}
	q := r.URL.Query()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		if err := setField(m, k, q[k]); err != nil {
			return fmt.Errorf("query parameter %q: %w", k, err)
		}
	}
	for field, v := range vars {
		if err := setField(m, field, []string{v}); err != nil {
			return fmt.Errorf("path variable %q: %w", field, err)
		}
	}
	return nil
}

// setField sets the field at a dotted path ("filter.nameGlob", JSON or proto
// names) from its textual values, with protojson's rules for each type
// (enum names, "5s" durations, RFC 3339 timestamps); a repeated field takes
// every value.
func setField(m protoreflect.Message, path string, values []string) error {
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		fd := fieldByName(m.Descriptor(), seg)
		if fd == nil {
			return fmt.Errorf("%s has no field %q", m.Descriptor().FullName(), seg)
		}
		if i < len(segs)-1 {
			if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
				return fmt.Errorf("%q is not a message field", seg)
			}
			m = m.Mutable(fd).Message()
			continue
		}
		if fd.IsMap() || (fd.Kind() == protoreflect.MessageKind && fd.IsList()) {
			return fmt.Errorf("%q cannot be set from the URL; send it in a JSON body", seg)
		}
		if !fd.IsList() && len(values) > 1 {
			return fmt.Errorf("%q takes one value, got %d", seg, len(values))
		}
		elems := make([]json.RawMessage, 0, len(values))
		for _, v := range values {
			e, err := jsonScalar(fd, v)
			if err != nil {
				return fmt.Errorf("%q: %w", seg, err)
			}
			elems = append(elems, e)
		}
		var val any = elems[0]
		if fd.IsList() {
			val = elems
		}
		doc, err := json.Marshal(map[string]any{fd.JSONName(): val})
		if err != nil {
			return err
		}
		tmp := m.New()
		if err := protojson.Unmarshal(doc, tmp.Interface()); err != nil {
			return err
		}
		proto.Merge(m.Interface(), tmp.Interface())
	}
	return nil
}

func fieldByName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByJSONName(name); fd != nil {
		return fd
	}
	return md.Fields().ByName(protoreflect.Name(name))
}

// jsonScalar spells one URL value as the JSON protojson expects: booleans
// bare, everything else (numbers, enums, well-known types) as a string.
func jsonScalar(fd protoreflect.FieldDescriptor, v string) (json.RawMessage, error) {
	if fd.Kind() == protoreflect.BoolKind {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("want true or false, not %q", v)
		}
		return json.RawMessage(strconv.FormatBool(b)), nil
	}
	return json.Marshal(v)
}
