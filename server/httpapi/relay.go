package httpapi

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"

	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// NDJSONContentType is the media type of a server stream over HTTP: one
// JSON object per line, {"result": message} or, last, {"error": status}.
const NDJSONContentType = "application/x-ndjson"

// relay serves one method over HTTP. It builds the request message from the
// URL and body, then hands the gRPC server an in-process gRPC request
// (HTTP/2 semantics, the same *tls.ConnectionState, the same remote
// address), so the call passes the same interceptors as any other: the
// caller's certificate is the identity that is authorized, audited and
// limited. The gRPC response comes back as JSON (unary) or as one JSON line
// per message (server streams).
type relay struct {
	grpc       http.Handler
	invoke     func(r *http.Request, method string, decode func(proto.Message) error) (proto.Message, error)
	method     string // gRPC path, "/pkg.Service/Method"
	in, out    protoreflect.MessageType
	body       bool // the JSON body is the request ("body: *")
	maxRequest int64
	marshal    protojson.MarshalOptions
	unary      bool // one JSON response instead of NDJSON
}

// serve answers r; vars are the path variables (request field -> value).
func (h *relay) serve(w http.ResponseWriter, r *http.Request, vars map[string]string) {
	if h.unary && h.invoke != nil {
		h.serveUnary(w, r, vars)
		return
	}
	req := h.in.New()
	if err := h.decode(r, vars, req); err != nil {
		writeError(w, codes.InvalidArgument, err.Error())
		return
	}
	payload, err := proto.Marshal(req.Interface())
	if err != nil {
		writeError(w, codes.InvalidArgument, err.Error())
		return
	}
	frame := make([]byte, 5, 5+len(payload)) // gRPC framing: uncompressed, length
	binary.BigEndian.PutUint32(frame[1:], uint32(len(payload)))
	frame = append(frame, payload...)

	// A fresh request, not a clone: only what the gRPC handler reads, and
	// the peer (TLS state and address) that the interceptors identify.
	inner := (&http.Request{
		Method: http.MethodPost, URL: &url.URL{Path: h.method}, RequestURI: h.method, Host: r.Host,
		Proto: "HTTP/2", ProtoMajor: 2, ProtoMinor: 0,
		Header: http.Header{"Content-Type": {"application/grpc"}, "Te": {"trailers"}, "User-Agent": r.Header["User-Agent"]},
		Body:   nopCloser{bytes.NewReader(frame)}, ContentLength: int64(len(frame)),
		RemoteAddr: r.RemoteAddr, TLS: r.TLS,
	}).WithContext(r.Context())

	nw := &relayWriter{w: w, rc: http.NewResponseController(w), out: h.out, marshal: h.marshal, hdr: http.Header{}, unary: h.unary}
	h.grpc.ServeHTTP(nw, inner)
	nw.finish(r)
}

// serveUnary answers a unary call through invoke (Config.Unary): the
// request is decoded straight into the message the method handler
// allocates, and its response marshalled once.
func (h *relay) serveUnary(w http.ResponseWriter, r *http.Request, vars map[string]string) {
	var badRequest error
	resp, err := h.invoke(r, h.method, func(m proto.Message) error {
		badRequest = h.decode(r, vars, m.ProtoReflect())
		return badRequest
	})
	if badRequest != nil {
		writeError(w, codes.InvalidArgument, badRequest.Error())
		return
	}
	if err != nil {
		st := status.Convert(err)
		writeError(w, st.Code(), st.Message())
		return
	}
	js, err := h.marshal.Marshal(resp)
	if err != nil {
		writeError(w, codes.Internal, "encoding the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(js)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// relayWriter is the http.ResponseWriter the gRPC server writes to. It
// collects headers and trailers and decodes each length-prefixed message: a
// stream's become JSON lines, flushed one by one; a unary call's waits for
// the status. The gRPC handler transport calls it from one goroutine, the
// one in ServeHTTP.
type relayWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	out     protoreflect.MessageType
	marshal protojson.MarshalOptions
	hdr     http.Header // gRPC headers and trailers (Grpc-Status, Grpc-Message)
	buf     []byte      // an incomplete gRPC frame
	started bool        // the 200 NDJSON response is committed
	broken  string      // why the gRPC side's output could not be relayed
	unary   bool
	single  []byte // a unary call's response, written once the status is known
}

func (n *relayWriter) Header() http.Header { return n.hdr }

// WriteHeader: the gRPC server sends headers once it accepted the stream;
// only then does the client see 200 (a refusal comes as trailers only and
// becomes an HTTP error status instead).
func (n *relayWriter) WriteHeader(code int) {
	if code != http.StatusOK {
		n.broken = "gRPC transport answered HTTP " + strconv.Itoa(code)
		return
	}
	if !n.unary {
		n.start()
	}
}

func (n *relayWriter) Flush() {
	if n.started && !n.unary {
		_ = n.rc.Flush()
	}
}

func (n *relayWriter) start() {
	if n.started {
		return
	}
	n.started = true
	h := n.w.Header()
	h.Set("Content-Type", NDJSONContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	n.w.WriteHeader(http.StatusOK)
	_ = n.rc.Flush()
}

func (n *relayWriter) Write(p []byte) (int, error) {
	if n.broken == "" {
		n.buf = append(n.buf, p...)
		n.broken = n.drain()
	}
	return len(p), nil // the gRPC transport ignores write errors; finish reports them
}

// drain relays every complete gRPC frame in buf and says why it could not,
// "" when all went well. A client that went away is not an error here: its
// request context ends the call.
func (n *relayWriter) drain() string {
	for len(n.buf) >= 5 {
		size := int(binary.BigEndian.Uint32(n.buf[1:5]))
		if len(n.buf) < 5+size {
			return ""
		}
		if n.buf[0] != 0 { // never asked for: the request sends no grpc-accept-encoding
			return "compressed gRPC message"
		}
		msg := n.out.New()
		if err := proto.Unmarshal(n.buf[5:5+size], msg.Interface()); err != nil {
			return "undecodable gRPC message: " + err.Error()
		}
		n.buf = n.buf[5+size:]
		js, err := n.marshal.Marshal(msg.Interface())
		if err != nil {
			return err.Error()
		}
		if n.unary {
			n.single = js
			continue
		}
		n.start()
		line := make([]byte, 0, len(js)+12)
		line = append(append(append(line, `{"result":`...), js...), "}\n"...)
		_, _ = n.w.Write(line)
	}
	return ""
}

// finish reports the stream's status: an HTTP error when nothing was sent
// yet, else a last {"error": ...} line (a clean end adds nothing).
func (n *relayWriter) finish(r *http.Request) {
	code, msg := codes.Internal, n.broken
	if msg == "" {
		if s := n.hdr.Get("Grpc-Status"); s != "" {
			c, err := strconv.Atoi(s)
			if err != nil {
				c = int(codes.Unknown)
			}
			code = codes.Code(c) //nolint:gosec // a gRPC status code, 0..16
			msg, _ = url.PathUnescape(n.hdr.Get("Grpc-Message"))
		} else if r.Context().Err() != nil {
			return // the client went away
		} else {
			code, msg = codes.Unavailable, "the stream ended without a status (the agent is shutting down)"
		}
	}
	if code == codes.OK && n.unary {
		n.w.Header().Set("Content-Type", "application/json")
		n.w.WriteHeader(http.StatusOK)
		_, _ = n.w.Write(n.single)
		return
	}
	if code == codes.OK {
		n.start()
		return
	}
	if !n.started {
		writeError(n.w, code, msg)
		return
	}
	st := statusJSON(&rpcstatus.Status{Code: int32(code), Message: msg}) //nolint:gosec // 0..16
	line := append(append([]byte(`{"error":`), st...), "}\n"...)
	_, _ = n.w.Write(line)
	_ = n.rc.Flush()
}
