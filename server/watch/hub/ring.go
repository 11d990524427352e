package hub

// ring keeps the last events, whose sequence numbers are contiguous, for
// resuming subscribers. Events are shared, read-only, with the queues.
type ring[T any] struct {
	buf   []*Event[T]
	first uint64 // sequence number of the oldest event held (or of the next, when empty)
	n     int
}

func newRing[T any](size int, first uint64) ring[T] {
	return ring[T]{buf: make([]*Event[T], size), first: first}
}

func (r *ring[T]) push(ev *Event[T]) {
	if r.n == len(r.buf) {
		r.buf[r.first%uint64(len(r.buf))] = nil
		r.first++
		r.n--
	}
	r.buf[ev.Seq%uint64(len(r.buf))] = ev
	r.n++
}

// reset forgets everything; the next event pushed is number first.
func (r *ring[T]) reset(first uint64) {
	clear(r.buf)
	r.first, r.n = first, 0
}

// since returns the events after seq, and false when some of them are no
// longer held (or seq is not one this ring's history has reached).
func (r *ring[T]) since(seq uint64) ([]*Event[T], bool) {
	last := r.first + uint64(r.n) - 1
	if seq+1 < r.first || seq > last {
		return nil, false
	}
	out := make([]*Event[T], 0, last-seq)
	for s := seq + 1; s <= last; s++ {
		out = append(out, r.buf[s%uint64(len(r.buf))])
	}
	return out, true
}
