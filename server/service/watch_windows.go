package service

// NewWatcher returns the SCM watcher: it polls m every PollInterval and
// reports the differences (NotifyServiceStatusChange would need one handle
// and callback per service; a single listing per second serves all).
func NewWatcher(m Manager) Watcher {
	return newHub(pollSource(m, PollInterval), func(n string) string { return n })
}
