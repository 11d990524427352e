// Package watchtest builds process watchers for tests of other packages (the
// server adapters, the CLI and the end-to-end suite), as net/http/httptest
// does for servers: a polling engine that the test closes when it ends.
package watchtest

import (
	"testing"
	"time"

	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch"
)

// Poll returns a polling watch.Engine over l (the netlink connector is
// skipped so tests see the same producer on every host). It starts on the
// first Watch; the test's cleanup closes it. A nil l is fine for servers
// whose test never watches.
func Poll(tb testing.TB, l process.Lister, interval time.Duration) *watch.Engine {
	tb.Helper()
	e := watch.NewEngine(watch.Config{Lister: l, Interval: interval, PollOnly: true})
	tb.Cleanup(e.Close)
	return e
}
