package logs

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// The Windows Event Log backend (eventlog_windows.go) queries a channel
// with an XPath built here and renders each record as XML, parsed here, so
// both are tested on every platform.

// Windows event levels and the syslog priorities they map to.
var windowsLevels = map[int]Priority{
	0: PriorityInfo, // LogAlways
	1: PriorityCrit,
	2: PriorityErr,
	3: PriorityWarning,
	4: PriorityInfo,
	5: PriorityDebug,
}

// eventQuery builds the XPath query of a channel read: provider, the
// levels at or above max, records after afterRecord, since. A caller's
// own XPath is used as it is (the other conditions are then applied to the
// parsed records).
func eventQuery(src Source, maxPr Priority, since time.Time, afterRecord uint64) (string, error) {
	if src.XPath != "" {
		return src.XPath, nil
	}
	var conds []string
	if src.Provider != "" {
		if strings.ContainsAny(src.Provider, `'"<>&`) {
			return "", fmt.Errorf("%w: provider %q contains quotes or markup", errdefs.ErrInvalidArgument, src.Provider)
		}
		conds = append(conds, "Provider[@Name='"+src.Provider+"']")
	}
	if maxPr != PriorityUnspecified {
		var levels []string
		for lvl := 0; lvl <= 5; lvl++ {
			if windowsLevels[lvl] <= maxPr {
				levels = append(levels, "Level="+strconv.Itoa(lvl))
			}
		}
		conds = append(conds, "("+strings.Join(levels, " or ")+")")
	}
	if !since.IsZero() {
		conds = append(conds, "TimeCreated[@SystemTime>='"+since.UTC().Format("2006-01-02T15:04:05.000Z")+"']")
	}
	if afterRecord > 0 {
		conds = append(conds, "EventRecordID>"+strconv.FormatUint(afterRecord, 10))
	}
	if len(conds) == 0 {
		return "*", nil
	}
	return "*[System[" + strings.Join(conds, " and ") + "]]", nil
}

// eventXML is the part of a rendered record (EvtRenderEventXml) the agent
// reads.
type eventXML struct {
	System struct {
		Provider struct {
			Name string `xml:"Name,attr"`
		} `xml:"Provider"`
		EventID     uint32 `xml:"EventID"`
		Level       int    `xml:"Level"`
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		} `xml:"TimeCreated"`
		EventRecordID uint64 `xml:"EventRecordID"`
		Execution     struct {
			ProcessID int32 `xml:"ProcessID,attr"`
		} `xml:"Execution"`
		Channel string `xml:"Channel"`
	} `xml:"System"`
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		} `xml:"Data"`
	} `xml:"EventData"`
	Rendering struct {
		Message string `xml:"Message"`
	} `xml:"RenderingInfo"`
}

// parseEventXML converts one rendered record; message, when not empty, is
// the provider's formatted message (EvtFormatMessage), else the record's
// data values stand in for it.
func parseEventXML(raw string, message string, maxLine int) (Entry, uint64, error) {
	var ev eventXML
	if err := xml.Unmarshal([]byte(raw), &ev); err != nil {
		return Entry{}, 0, fmt.Errorf("%w: event XML: %w", errdefs.ErrInternal, err)
	}
	s := &ev.System
	e := Entry{Source: eventlogPfx + s.Channel, Provider: s.Provider.Name, EventID: s.EventID, PID: s.Execution.ProcessID,
		Priority: windowsLevels[s.Level], Cursor: evtCursor(s.Channel, s.EventRecordID)}
	if t, err := time.Parse(time.RFC3339Nano, s.TimeCreated.SystemTime); err == nil {
		e.Time = t
	}
	if message == "" {
		message = ev.Rendering.Message
	}
	if message == "" {
		var parts []string
		for _, d := range ev.EventData.Data {
			if d.Name != "" {
				parts = append(parts, d.Name+"="+d.Value)
			} else {
				parts = append(parts, d.Value)
			}
		}
		message = strings.Join(parts, " ")
	}
	message = strings.TrimRight(message, "\r\n ")
	if len(message) > maxLine {
		message, e.Truncated = message[:maxLine], true
	}
	if !utf8.ValidString(message) {
		message, e.InvalidUTF8 = strings.ToValidUTF8(message, "\uFFFD"), true
	}
	e.Message = message
	return e, s.EventRecordID, nil
}

func evtCursor(channel string, record uint64) string {
	return evtCursorPrefix + strconv.FormatUint(record, 10) + ":" + channel
}

// parseEvtCursor returns the record ID of an Event Log cursor of channel.
func parseEvtCursor(s, channel string) (uint64, error) {
	rest, ok := strings.CutPrefix(s, evtCursorPrefix)
	num, ch, ok2 := strings.Cut(rest, ":")
	id, err := strconv.ParseUint(num, 10, 64)
	if !ok || !ok2 || err != nil {
		return 0, fmt.Errorf("%w: malformed event log cursor", errdefs.ErrInvalidArgument)
	}
	if !strings.EqualFold(ch, channel) {
		return 0, fmt.Errorf("%w: the cursor belongs to channel %s, not %s", errdefs.ErrInvalidArgument, ch, channel)
	}
	return id, nil
}
