// Package metrics holds the agent's Prometheus metrics: per-RPC metrics from
// go-grpc-middleware's prometheus provider plus the agent's own (watch
// subscribers, events sent, backend call latency). Metrics are optional: the
// server runs without them and ctld only creates them for --metrics-listen.
package metrics

import (
	"strings"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

const namespace = "remotectl"

// Metrics is one registry with everything the agent exports.
type Metrics struct {
	// Registry is what the /metrics handler serves.
	Registry *prometheus.Registry
	grpc     *grpcprom.ServerMetrics

	watchers      prometheus.Gauge
	eventsSent    *prometheus.CounterVec
	watchesEnded  *prometheus.CounterVec
	backendCalls  *prometheus.HistogramVec
	backendErrors *prometheus.CounterVec
}

// New creates and registers the metrics, including the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		grpc:     grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram()),
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "watch", Name: "subscribers",
			Help: "WatchProcesses streams currently open.",
		}),
		eventsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "watch", Name: "events_sent_total",
			Help: "Process events sent on WatchProcesses streams, by event type (rate() gives events/s).",
		}, []string{"type"}),
		watchesEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "watch", Name: "subscriptions_ended_total",
			Help: "WatchProcesses streams ended, by gRPC code: Canceled is the client leaving, Unavailable a dropped subscriber (backend failure or shutdown).",
		}, []string{"grpc_code"}),
		backendCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "backend", Name: "call_duration_seconds",
			Help:    "Latency of calls into the platform backends (process reader, service manager).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"backend", "op"}),
		backendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "backend", Name: "call_errors_total",
			Help: "Backend calls that returned an error.",
		}, []string{"backend", "op"}),
	}
	for _, t := range pb.ProcessEventType_name {
		if t != pb.ProcessEventType_PROCESS_EVENT_TYPE_UNSPECIFIED.String() {
			m.eventsSent.WithLabelValues(eventLabel(t))
		}
	}
	m.Registry.MustRegister(m.grpc, m.watchers, m.eventsSent, m.watchesEnded, m.backendCalls, m.backendErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Interceptors returns the interceptors that record RPC metrics. They go first
// in the chain so they see every call's final code, authentication failures
// included.
func (m *Metrics) Interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	rpcStream := m.grpc.StreamServerInterceptor()
	return m.grpc.UnaryServerInterceptor(), func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if info.FullMethod != pb.ProcessService_WatchProcesses_FullMethodName {
			return rpcStream(srv, ss, info, h)
		}
		m.watchers.Inc()
		err := rpcStream(srv, &countingStream{ServerStream: ss, m: m}, info, h)
		m.watchers.Dec()
		m.watchesEnded.WithLabelValues(status.Code(err).String()).Inc()
		return err
	}
}

// InitializeMetrics creates the zero-valued RPC series for every registered
// method, so dashboards see them before the first call.
func (m *Metrics) InitializeMetrics(s *grpc.Server) { m.grpc.InitializeMetrics(s) }

// countingStream counts the watch events actually sent.
type countingStream struct {
	grpc.ServerStream
	m *Metrics
}

func (s *countingStream) SendMsg(msg any) error {
	err := s.ServerStream.SendMsg(msg)
	if r, ok := msg.(*pb.WatchProcessesResponse); ok && err == nil {
		s.m.eventsSent.WithLabelValues(eventLabel(r.GetEvent().GetType().String())).Inc()
	}
	return err
}

// eventLabel turns PROCESS_EVENT_TYPE_STARTED into "started".
func eventLabel(enumName string) string {
	return strings.ToLower(strings.TrimPrefix(enumName, "PROCESS_EVENT_TYPE_"))
}

// observe records one backend call's latency and outcome.
func (m *Metrics) observe(backend, op string, call func() error) error {
	t := prometheus.NewTimer(m.backendCalls.WithLabelValues(backend, op))
	err := call()
	t.ObserveDuration()
	if err != nil {
		m.backendErrors.WithLabelValues(backend, op).Inc()
	}
	return err
}
