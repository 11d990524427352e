package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// quietPair returns a quietConn accepted from a loopback listener and the
// plain client end.
func quietPair(t *testing.T) (*quietConn, net.Conn) {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := quietListener(tl)
	t.Cleanup(func() { _ = l.Close() })
	client, err := net.Dial("tcp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	qc, ok := c.(*quietConn)
	if !ok {
		t.Fatalf("accepted %T, want *quietConn", c)
	}
	return qc, client
}

func TestQuietConnReadWrite(t *testing.T) {
	qc, client := quietPair(t)

	// A write far larger than the socket buffers goes out whole: partial
	// writes continue once the peer drains.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(big))))
		got <- b
	}()
	if n, err := qc.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write = %d, %v; want %d", n, err, len(big))
	}
	if b := <-got; !bytes.Equal(b, big) {
		t.Fatalf("peer read %d bytes, not what was written", len(b))
	}

	// Reads wait in the netpoller for data.
	go func() { _, _ = client.Write([]byte("ping")) }()
	buf := make([]byte, 16)
	if n, err := qc.Read(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}

	// Deadlines are the TCPConn's and surface as net.Conn errors do.
	if err := qc.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := qc.Read(buf)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline = %v, want a timeout net.Error", err)
	}
	_ = qc.SetReadDeadline(time.Time{})

	// The peer closing is EOF; writing to it then fails (EPIPE or reset)
	// instead of killing the process with SIGPIPE.
	_ = client.Close()
	if _, err := qc.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the peer closed = %v, want EOF", err)
	}
	var werr error
	for range 100 {
		if _, werr = qc.Write([]byte("x")); werr != nil {
			break
		}
	}
	if !errors.Is(werr, unix.EPIPE) && !errors.Is(werr, unix.ECONNRESET) {
		t.Fatalf("Write to a closed peer = %v, want EPIPE or ECONNRESET", werr)
	}

	// Closing our end ends a parked read with net.ErrClosed.
	qc2, _ := quietPair(t)
	done := make(chan error, 1)
	go func() { _, err := qc2.Read(buf); done <- err }()
	_ = qc2.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read on a closed conn = %v, want net.ErrClosed", err)
	}
}

// TestQuietListenerKeepsTCPUserTimeout: gRPC sets TCP_USER_TIMEOUT only on
// a *net.TCPConn, so the wrapper sets the keepalive timeout itself.
func TestQuietListenerKeepsTCPUserTimeout(t *testing.T) {
	qc, _ := quietPair(t)
	var v int
	var gerr error
	if err := qc.rc.Control(func(fd uintptr) {
		v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if want := int(KeepaliveTimeout / time.Millisecond); v != want {
		t.Fatalf("TCP_USER_TIMEOUT = %d ms, want %d", v, want)
	}
}
