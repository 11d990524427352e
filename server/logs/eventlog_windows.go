package logs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/windows"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/logs/internal/wevtapi"
)

// wevtapi through the typed wrappers mkwinsyscall generates in package
// wevtapi, modelled on winlogbeat's sys/wineventlog. A follow polls EvtQuery
// for records after the last record ID once a second rather than holding an
// EvtSubscribe subscription: the record ID doubles as the cursor, and a
// reconnect is the same query.
const evtPollInterval = time.Second

func evtClose(h wevtapi.Handle) {
	if h != 0 {
		_ = wevtapi.EvtClose(h)
	}
}

func evtUnavailable(op string, err error) error {
	if errors.Is(err, windows.ERROR_EVT_CHANNEL_NOT_FOUND) {
		return fmt.Errorf("%w: event log channel not found: %w", errdefs.ErrNotFound, err)
	}
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return fmt.Errorf("%w: wevtapi %s: %w", errdefs.ErrPermissionDenied, op, err)
	}
	if errors.Is(err, syscall.EINVAL) {
		// Wine's stubs fail without setting the last error; the wrappers
		// report that as EINVAL, which no Win32 call sets.
		return fmt.Errorf("%w: wevtapi %s failed without an error code (not implemented by this wevtapi.dll?)", errdefs.ErrUnavailable, op)
	}
	return fmt.Errorf("%w: wevtapi %s: %w", errdefs.ErrUnavailable, op, err)
}

func evtQuery(channel, query string, reverse bool) (wevtapi.Handle, error) {
	if err := wevtapi.Load(); err != nil {
		return 0, evtUnavailable("load", err)
	}
	c, err := windows.UTF16PtrFromString(channel)
	if err != nil {
		return 0, fmt.Errorf("%w: channel: %w", errdefs.ErrInvalidArgument, err)
	}
	q, err := windows.UTF16PtrFromString(query)
	if err != nil {
		return 0, fmt.Errorf("%w: query: %w", errdefs.ErrInvalidArgument, err)
	}
	flags := uint32(wevtapi.EvtQueryChannelPath | wevtapi.EvtQueryTolerateQueryErrors)
	if reverse {
		flags |= wevtapi.EvtQueryReverseDirection
	}
	h, err := wevtapi.EvtQuery(0, c, q, flags)
	if err != nil {
		return 0, evtUnavailable("EvtQuery", err)
	}
	return h, nil
}

// evtNext returns up to n event handles; none at the end of the results.
func evtNext(rs wevtapi.Handle, n int) ([]wevtapi.Handle, error) {
	hs := make([]wevtapi.Handle, n)
	var got uint32
	if err := wevtapi.EvtNext(rs, uint32(n), &hs[0], 0, 0, &got); err != nil {
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			return nil, nil
		}
		return nil, evtUnavailable("EvtNext", err)
	}
	return hs[:got], nil
}

// evtRenderXML renders one record as XML (UTF-16 in buf, grown as needed).
func evtRenderXML(h wevtapi.Handle, buf *[]uint16) (string, error) {
	for {
		var used, props uint32
		size := uint32(len(*buf) * 2)
		err := wevtapi.EvtRender(0, h, wevtapi.EvtRenderEventXML, size, &(*buf)[0], &used, &props)
		if err == nil {
			return windows.UTF16ToString((*buf)[:used/2]), nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || used <= size {
			return "", evtUnavailable("EvtRender", err)
		}
		*buf = make([]uint16, used/2+1)
	}
}

// evtMessage formats a record's message with its provider's metadata
// (cached per provider); "" when the provider has none.
func evtMessage(h wevtapi.Handle, provider string, pubs map[string]wevtapi.Handle) string {
	pub, ok := pubs[provider]
	if !ok {
		if p, err := windows.UTF16PtrFromString(provider); err == nil {
			// 0 when the provider has no metadata: no message, then.
			pub, _ = wevtapi.EvtOpenPublisherMetadata(0, p, nil, 0, 0)
		}
		pubs[provider] = pub
	}
	if pub == 0 {
		return ""
	}
	buf := make([]uint16, 1024)
	for i := 0; i < 2; i++ {
		var used uint32
		err := wevtapi.EvtFormatMessage(pub, h, 0, 0, 0, wevtapi.EvtFormatMessageEvent, uint32(len(buf)), &buf[0], &used)
		if err == nil {
			return windows.UTF16ToString(buf[:used])
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || int(used) <= len(buf) {
			return ""
		}
		buf = make([]uint16, used)
	}
	return ""
}

// evtScan runs a query and calls fn with each record until fn returns
// false or the results end.
func evtScan(src Source, query string, reverse bool, lim Limits, fn func(Entry, uint64) bool) error {
	rs, err := evtQuery(src.Channel, query, reverse)
	if err != nil {
		return err
	}
	defer evtClose(rs)
	pubs := map[string]wevtapi.Handle{}
	defer func() {
		for _, p := range pubs {
			evtClose(p)
		}
	}()
	buf := make([]uint16, 8192)
	for {
		hs, err := evtNext(rs, 64)
		if err != nil || len(hs) == 0 {
			return err
		}
		more := true
		for _, h := range hs {
			if more {
				var raw string
				if raw, err = evtRenderXML(h, &buf); err == nil {
					var e Entry
					var id uint64
					if e, id, err = parseEventXML(raw, "", lim.MaxLineBytes); err == nil {
						if m := evtMessage(h, e.Provider, pubs); m != "" {
							e, _, _ = parseEventXML(raw, m, lim.MaxLineBytes)
						}
						more = fn(e, id)
					}
				}
			}
			evtClose(h)
		}
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// evtLast reads the last n matching records (oldest first) after record
// `after`, and the newest record ID seen.
func evtLast(src Source, m *matcher, n int, since time.Time, after uint64, lim Limits) ([]Entry, uint64, error) {
	query, err := eventQuery(src, m.max, since, after)
	if err != nil {
		return nil, 0, err
	}
	var out []Entry
	var newest uint64
	err = evtScan(src, query, true, lim, func(e Entry, id uint64) bool {
		newest = max(newest, id)
		if keepEvent(&e, since, after, id) && m.keep(&e) {
			out = append(out, e)
		}
		return len(out) < n
	})
	slices.Reverse(out)
	return out, newest, err
}

func readEventLog(_ context.Context, src Source, m *matcher, n int, req ReadRequest, lim Limits) ([]Entry, string, error) {
	es, newest, err := evtLast(src, m, n, req.Since, 0, lim)
	if err != nil {
		return nil, "", err
	}
	return es, evtCursor(src.Channel, newest), nil
}

// evtStream polls a channel for records after the last one sent.
type evtStream struct {
	src     Source
	m       *matcher
	lim     Limits
	last    uint64
	backlog []Entry
	tick    *time.Ticker
}

func followEventLog(src Source, m *matcher, req FollowRequest, lim Limits) (Stream, error) {
	s := &evtStream{src: src, m: m, lim: lim}
	switch {
	case req.Cursor != "":
		id, err := parseEvtCursor(req.Cursor, src.Channel)
		if err != nil {
			return nil, err
		}
		s.last = id
	default:
		es, newest, err := evtLast(src, m, max(req.Lines, 1), req.Since, 0, lim)
		if err != nil {
			return nil, err
		}
		if req.Lines > 0 {
			s.backlog = es
		}
		s.last = newest
	}
	s.tick = time.NewTicker(evtPollInterval)
	return s, nil
}

func (s *evtStream) Next(ctx context.Context) ([]Entry, error) {
	if len(s.backlog) > 0 {
		b := s.backlog
		s.backlog = nil
		return b, nil
	}
	for {
		query, err := eventQuery(s.src, s.m.max, time.Time{}, s.last)
		if err != nil {
			return nil, err
		}
		var out []Entry
		err = evtScan(s.src, query, false, s.lim, func(e Entry, id uint64) bool {
			if id > s.last {
				s.last = id
				if s.m.keep(&e) {
					out = append(out, e)
				}
			}
			return len(out) < s.lim.BatchLines
		})
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.tick.C:
		}
	}
}

func (s *evtStream) Close() error {
	s.tick.Stop()
	return nil
}

// keepEvent applies what a caller's own XPath could not: since and the
// record position.
func keepEvent(e *Entry, since time.Time, after, record uint64) bool {
	return record > after && (since.IsZero() || !e.Time.Before(since))
}
