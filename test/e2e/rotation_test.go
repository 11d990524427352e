package e2e

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// peerSerial handshakes with the agent and returns the serial of the
// server certificate it presented.
func peerSerial(t *testing.T, a *authzAgent, client *tls.Certificate) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", a.addr, &tls.Config{
		MinVersion: tls.VersionTLS13, RootCAs: a.ca.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"h2"},
		Certificates: []tls.Certificate{*client},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// TestCertRotationKeepsStreams replaces the server certificate files while
// a WatchProcesses stream is open: the stream keeps delivering events, and
// new connections get the new certificate (picked up by the file watch).
func TestCertRotationKeepsStreams(t *testing.T) {
	a := startAuthzAgent(t)
	c, k, err := a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers"))
	viewer := pair(t, c, k, err)
	oldSerial := a.tls.Certificate().SerialNumber.Text(16)
	if got := peerSerial(t, a, viewer); got != oldSerial {
		t.Fatalf("agent presents %s, want %s", got, oldSerial)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	name := uniqueName("rctlrot-")
	stream, err := pb.NewProcessServiceClient(a.dial(t, viewer)).WatchProcesses(ctx, &pb.WatchProcessesRequest{
		IncludeExisting: true, Filter: &pb.ProcessFilter{NameGlob: name}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEvent().GetType() == pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED {
			break
		}
	}

	certPEM, keyPEM, err := a.ca.IssueServer("", []string{"127.0.0.1", "localhost"}, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Key first, then certificate: a reload between the two fails cleanly
	// (mismatched pair) and keeps serving the old pair until both are in place.
	if err := pki.WriteFileAtomic(a.paths.ServerKey, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := pki.WriteFileAtomic(a.paths.ServerCert, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	// The agent re-reads its files on a timer; a new handshake shows it.
	newSerial := ""
	if !testutil.Poll(5*time.Second, func() bool { newSerial = peerSerial(t, a, viewer); return newSerial != oldSerial }) {
		t.Fatalf("new connections still get serial %s after the files changed", oldSerial)
	}
	if want := a.tls.Certificate().SerialNumber.Text(16); newSerial != want {
		t.Fatalf("new connection sees %s, the agent serves %s", newSerial, want)
	}

	// The stream opened under the old certificate still delivers.
	spawn(t, namedSleep(t, name), "30")
	ev, err := stream.Recv()
	if err != nil {
		t.Fatalf("stream broke across the rotation: %v", err)
	}
	if ev.GetEvent().GetType() != pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED || ev.GetEvent().GetProcess().GetName() != name {
		t.Fatalf("event after rotation: %v", ev)
	}
	// Heartbeat over a new connection reports the new certificate.
	hb, err := pb.NewAgentServiceClient(a.dial(t, viewer)).Heartbeat(ctx, &pb.HeartbeatRequest{})
	if err != nil || hb.ServerCertSerial != newSerial {
		t.Fatalf("heartbeat server_cert_serial %q, want %s (%v)", hb.GetServerCertSerial(), newSerial, err)
	}
}
