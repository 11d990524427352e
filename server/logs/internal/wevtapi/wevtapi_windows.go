package wevtapi

// Handle is an EVT_HANDLE: a query result set, an event or publisher metadata.
type Handle uintptr

// EvtQuery flags (EVT_QUERY_FLAGS), and the EvtRender and EvtFormatMessage
// flags the backend uses.
const (
	EvtQueryChannelPath         = 0x1
	EvtQueryReverseDirection    = 0x200
	EvtQueryTolerateQueryErrors = 0x1000
	EvtRenderEventXML           = 1
	EvtFormatMessageEvent       = 1
)

// The wrappers return the last error of a failed call; a call that fails
// without setting one (Wine's stubs do) returns syscall.EINVAL, an invented
// errno that no Win32 call sets (see errnoErr in zsyscall_windows.go).

//sys	EvtQuery(session Handle, path *uint16, query *uint16, flags uint32) (h Handle, err error) = wevtapi.EvtQuery
//sys	EvtNext(resultSet Handle, eventsSize uint32, events *Handle, timeout uint32, flags uint32, returned *uint32) (err error) = wevtapi.EvtNext
//sys	EvtRender(context Handle, fragment Handle, flags uint32, bufferSize uint32, buffer *uint16, bufferUsed *uint32, propertyCount *uint32) (err error) = wevtapi.EvtRender
//sys	EvtClose(object Handle) (err error) = wevtapi.EvtClose
//sys	EvtOpenPublisherMetadata(session Handle, publisherID *uint16, logFilePath *uint16, locale uint32, flags uint32) (h Handle, err error) = wevtapi.EvtOpenPublisherMetadata
//sys	EvtFormatMessage(publisherMetadata Handle, event Handle, messageID uint32, valueCount uint32, values uintptr, flags uint32, bufferSize uint32, buffer *uint16, bufferUsed *uint32) (err error) = wevtapi.EvtFormatMessage

// Load reports whether wevtapi.dll and EvtQuery load. A wrapper panics when
// its procedure is missing, so a host without the Event Log API must be
// told apart before the first query.
func Load() error {
	return procEvtQuery.Find()
}
