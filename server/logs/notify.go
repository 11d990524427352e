package logs

import (
	"context"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Wake-up periods of a file follow: with fsnotify a slow safety poll
// (missed events, network file systems); without it (inotify limits
// reached, unsupported platform) a faster poll.
const (
	safetyPoll   = time.Second
	fallbackPoll = 250 * time.Millisecond
)

// notifier wakes a file follow when something changes in the watched
// directories. Watching the parent directory, not the file, is what sees a
// rotation: the create of the new file and the rename of the old one.
type notifier struct {
	w    *fsnotify.Watcher
	dirs map[string]bool
	tick *time.Ticker
}

func newNotifier() *notifier {
	n := &notifier{dirs: map[string]bool{}}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		n.tick = time.NewTicker(fallbackPoll)
		return n
	}
	n.w, n.tick = w, time.NewTicker(safetyPoll)
	return n
}

// watch adds a directory; a failure degrades to polling.
func (n *notifier) watch(dir string) {
	if n.w == nil || n.dirs[dir] {
		return
	}
	if err := n.w.Add(dir); err != nil {
		n.fallback()
		return
	}
	n.dirs[dir] = true
}

func (n *notifier) fallback() {
	if n.w != nil {
		_ = n.w.Close()
		n.w = nil
	}
	n.tick.Reset(fallbackPoll)
}

// wait blocks until a change, a poll tick or the end of ctx. created
// reports that a file may have appeared (a glob should be re-expanded).
func (n *notifier) wait(ctx context.Context) (created bool, err error) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if n.w != nil {
		events, errs = n.w.Events, n.w.Errors
	}
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-n.tick.C:
		return true, nil
	case ev, ok := <-events:
		if !ok {
			n.fallback()
			return true, nil
		}
		created = ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename)
	case _, ok := <-errs:
		if !ok {
			n.fallback()
		}
		return true, nil // an overflow lost events: look at everything
	}
	// Coalesce what else is queued: one read serves them all.
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return true, nil
			}
			created = created || ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename)
		default:
			return created, nil
		}
	}
}

func (n *notifier) close() {
	n.tick.Stop()
	if n.w != nil {
		_ = n.w.Close()
	}
}
