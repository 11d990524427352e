from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
LOG_PRIORITY_ALERT: LogPriority
LOG_PRIORITY_CRIT: LogPriority
LOG_PRIORITY_DEBUG: LogPriority
LOG_PRIORITY_EMERG: LogPriority
LOG_PRIORITY_ERR: LogPriority
LOG_PRIORITY_INFO: LogPriority
LOG_PRIORITY_NOTICE: LogPriority
LOG_PRIORITY_UNSPECIFIED: LogPriority
LOG_PRIORITY_WARNING: LogPriority

class EventLogSource(_message.Message):
    __slots__ = ["channel", "provider", "xpath"]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    XPATH_FIELD_NUMBER: _ClassVar[int]
    channel: str
    provider: str
    xpath: str
    def __init__(self, channel: _Optional[str] = ..., provider: _Optional[str] = ..., xpath: _Optional[str] = ...) -> None: ...

class FollowLogsRequest(_message.Message):
    __slots__ = ["cursor", "filter", "lines", "since", "source"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    filter: LogFilter
    lines: int
    since: _timestamp_pb2.Timestamp
    source: LogSource
    def __init__(self, source: _Optional[_Union[LogSource, _Mapping]] = ..., filter: _Optional[_Union[LogFilter, _Mapping]] = ..., lines: _Optional[int] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...

class FollowLogsResponse(_message.Message):
    __slots__ = ["entries"]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ...) -> None: ...

class JournalSource(_message.Message):
    __slots__ = ["unit"]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    unit: str
    def __init__(self, unit: _Optional[str] = ...) -> None: ...

class LogEntry(_message.Message):
    __slots__ = ["cursor", "event_id", "invalid_utf8", "message", "pid", "priority", "provider", "source", "time", "truncated", "unit"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    INVALID_UTF8_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    event_id: int
    invalid_utf8: bool
    message: str
    pid: int
    priority: LogPriority
    provider: str
    source: str
    time: _timestamp_pb2.Timestamp
    truncated: bool
    unit: str
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., message: _Optional[str] = ..., unit: _Optional[str] = ..., pid: _Optional[int] = ..., priority: _Optional[_Union[LogPriority, str]] = ..., cursor: _Optional[str] = ..., truncated: bool = ..., invalid_utf8: bool = ..., provider: _Optional[str] = ..., event_id: _Optional[int] = ...) -> None: ...

class LogFilter(_message.Message):
    __slots__ = ["exclude", "include", "max_priority"]
    EXCLUDE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    exclude: _containers.RepeatedScalarFieldContainer[str]
    include: _containers.RepeatedScalarFieldContainer[str]
    max_priority: LogPriority
    def __init__(self, include: _Optional[_Iterable[str]] = ..., exclude: _Optional[_Iterable[str]] = ..., max_priority: _Optional[_Union[LogPriority, str]] = ...) -> None: ...

class LogSource(_message.Message):
    __slots__ = ["event_log", "file", "journal", "service"]
    EVENT_LOG_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    JOURNAL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    event_log: EventLogSource
    file: str
    journal: JournalSource
    service: str
    def __init__(self, file: _Optional[str] = ..., journal: _Optional[_Union[JournalSource, _Mapping]] = ..., event_log: _Optional[_Union[EventLogSource, _Mapping]] = ..., service: _Optional[str] = ...) -> None: ...

class ReadLogsRequest(_message.Message):
    __slots__ = ["filter", "lines", "since", "source"]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    filter: LogFilter
    lines: int
    since: _timestamp_pb2.Timestamp
    source: LogSource
    def __init__(self, source: _Optional[_Union[LogSource, _Mapping]] = ..., filter: _Optional[_Union[LogFilter, _Mapping]] = ..., lines: _Optional[int] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReadLogsResponse(_message.Message):
    __slots__ = ["cursor", "entries"]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    entries: _containers.RepeatedCompositeFieldContainer[LogEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ..., cursor: _Optional[str] = ...) -> None: ...

class LogPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
