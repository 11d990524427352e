package httpapi

import (
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
)

// httpStatus maps a gRPC code to the HTTP status of a refused call (the
// mapping of grpc-gateway and Connect, except Canceled: 499 as in nginx).
var httpStatus = [...]int{
	codes.OK:                 http.StatusOK,
	codes.Canceled:           499, // client closed request
	codes.Unknown:            http.StatusInternalServerError,
	codes.InvalidArgument:    http.StatusBadRequest,
	codes.DeadlineExceeded:   http.StatusGatewayTimeout,
	codes.NotFound:           http.StatusNotFound,
	codes.AlreadyExists:      http.StatusConflict,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.ResourceExhausted:  http.StatusTooManyRequests,
	codes.FailedPrecondition: http.StatusBadRequest,
	codes.Aborted:            http.StatusConflict,
	codes.OutOfRange:         http.StatusBadRequest,
	codes.Unimplemented:      http.StatusNotImplemented,
	codes.Internal:           http.StatusInternalServerError,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.DataLoss:           http.StatusInternalServerError,
	codes.Unauthenticated:    http.StatusUnauthorized,
}

// HTTPStatus is the HTTP status for a gRPC code.
func HTTPStatus(c codes.Code) int {
	if int(c) >= len(httpStatus) {
		return http.StatusInternalServerError
	}
	return httpStatus[c]
}

// statusJSON is the body of an error: google.rpc.Status in protojson, as
// grpc-gateway writes it (and the OpenAPI document describes it).
func statusJSON(s *status.Status) []byte {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(s)
	if err != nil {
		return []byte(`{"code":13,"message":"internal error","details":[]}`)
	}
	return b
}

// writeError answers a call refused before any response was written.
func writeError(w http.ResponseWriter, c codes.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(HTTPStatus(c))
	_, _ = w.Write(statusJSON(&status.Status{Code: int32(c), Message: msg}))
}
