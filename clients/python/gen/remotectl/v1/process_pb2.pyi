from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
PROCESS_EVENT_TYPE_EXEC: ProcessEventType
PROCESS_EVENT_TYPE_EXISTING: ProcessEventType
PROCESS_EVENT_TYPE_EXITED: ProcessEventType
PROCESS_EVENT_TYPE_RESYNC: ProcessEventType
PROCESS_EVENT_TYPE_STARTED: ProcessEventType
PROCESS_EVENT_TYPE_SYNCED: ProcessEventType
PROCESS_EVENT_TYPE_UNSPECIFIED: ProcessEventType
PROCESS_FIELD_ARGS: ProcessField
PROCESS_FIELD_CPU: ProcessField
PROCESS_FIELD_EXE: ProcessField
PROCESS_FIELD_MEMORY: ProcessField
PROCESS_FIELD_NAME: ProcessField
PROCESS_FIELD_STATUS: ProcessField
PROCESS_FIELD_THREADS: ProcessField
PROCESS_FIELD_UNSPECIFIED: ProcessField
PROCESS_FIELD_USER: ProcessField
PROCESS_SIGNAL_CONT: ProcessSignal
PROCESS_SIGNAL_HUP: ProcessSignal
PROCESS_SIGNAL_INT: ProcessSignal
PROCESS_SIGNAL_KILL: ProcessSignal
PROCESS_SIGNAL_QUIT: ProcessSignal
PROCESS_SIGNAL_STOP: ProcessSignal
PROCESS_SIGNAL_TERM: ProcessSignal
PROCESS_SIGNAL_UNSPECIFIED: ProcessSignal
PROCESS_SIGNAL_USR1: ProcessSignal
PROCESS_SIGNAL_USR2: ProcessSignal
PROCESS_SORT_CPU: ProcessSort
PROCESS_SORT_MEMORY: ProcessSort
PROCESS_SORT_PID: ProcessSort
PROCESS_SORT_UNSPECIFIED: ProcessSort
PROCESS_STATUS_DEAD: ProcessStatus
PROCESS_STATUS_DISK_SLEEP: ProcessStatus
PROCESS_STATUS_IDLE: ProcessStatus
PROCESS_STATUS_RUNNING: ProcessStatus
PROCESS_STATUS_SLEEPING: ProcessStatus
PROCESS_STATUS_STOPPED: ProcessStatus
PROCESS_STATUS_UNSPECIFIED: ProcessStatus
PROCESS_STATUS_ZOMBIE: ProcessStatus

class ListProcessesRequest(_message.Message):
    __slots__ = ["fields", "filter", "limit", "sort"]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedScalarFieldContainer[ProcessField]
    filter: ProcessFilter
    limit: int
    sort: ProcessSort
    def __init__(self, filter: _Optional[_Union[ProcessFilter, _Mapping]] = ..., sort: _Optional[_Union[ProcessSort, str]] = ..., limit: _Optional[int] = ..., fields: _Optional[_Iterable[_Union[ProcessField, str]]] = ...) -> None: ...

class ListProcessesResponse(_message.Message):
    __slots__ = ["processes", "sampled_at", "total_matched"]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MATCHED_FIELD_NUMBER: _ClassVar[int]
    processes: _containers.RepeatedCompositeFieldContainer[Process]
    sampled_at: _timestamp_pb2.Timestamp
    total_matched: int
    def __init__(self, processes: _Optional[_Iterable[_Union[Process, _Mapping]]] = ..., sampled_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., total_matched: _Optional[int] = ...) -> None: ...

class Process(_message.Message):
    __slots__ = ["args", "cpu_percent", "cpu_percent_window", "cpu_system_time", "cpu_user_time", "exe", "name", "pid", "ppid", "resident_memory_bytes", "start_time", "status", "thread_count", "uid", "unavailable_fields", "user", "virtual_memory_bytes"]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    CPU_SYSTEM_TIME_FIELD_NUMBER: _ClassVar[int]
    CPU_USER_TIME_FIELD_NUMBER: _ClassVar[int]
    EXE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PPID_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    THREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELDS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    args: _containers.RepeatedScalarFieldContainer[str]
    cpu_percent: float
    cpu_percent_window: _duration_pb2.Duration
    cpu_system_time: _duration_pb2.Duration
    cpu_user_time: _duration_pb2.Duration
    exe: str
    name: str
    pid: int
    ppid: int
    resident_memory_bytes: int
    start_time: _timestamp_pb2.Timestamp
    status: ProcessStatus
    thread_count: int
    uid: int
    unavailable_fields: _containers.RepeatedScalarFieldContainer[ProcessField]
    user: str
    virtual_memory_bytes: int
    def __init__(self, pid: _Optional[int] = ..., ppid: _Optional[int] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ..., exe: _Optional[str] = ..., args: _Optional[_Iterable[str]] = ..., user: _Optional[str] = ..., uid: _Optional[int] = ..., status: _Optional[_Union[ProcessStatus, str]] = ..., cpu_user_time: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., cpu_system_time: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., cpu_percent: _Optional[float] = ..., cpu_percent_window: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., resident_memory_bytes: _Optional[int] = ..., virtual_memory_bytes: _Optional[int] = ..., thread_count: _Optional[int] = ..., unavailable_fields: _Optional[_Iterable[_Union[ProcessField, str]]] = ...) -> None: ...

class ProcessEvent(_message.Message):
    __slots__ = ["exit_code", "exit_signal", "old_args", "old_exe", "old_name", "process", "sequence", "time", "type"]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    EXIT_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    OLD_ARGS_FIELD_NUMBER: _ClassVar[int]
    OLD_EXE_FIELD_NUMBER: _ClassVar[int]
    OLD_NAME_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    exit_signal: int
    old_args: _containers.RepeatedScalarFieldContainer[str]
    old_exe: str
    old_name: str
    process: Process
    sequence: int
    time: _timestamp_pb2.Timestamp
    type: ProcessEventType
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[ProcessEventType, str]] = ..., process: _Optional[_Union[Process, _Mapping]] = ..., old_name: _Optional[str] = ..., old_exe: _Optional[str] = ..., old_args: _Optional[_Iterable[str]] = ..., exit_code: _Optional[int] = ..., exit_signal: _Optional[int] = ...) -> None: ...

class ProcessFilter(_message.Message):
    __slots__ = ["name_glob", "pids", "ppid", "user"]
    NAME_GLOB_FIELD_NUMBER: _ClassVar[int]
    PIDS_FIELD_NUMBER: _ClassVar[int]
    PPID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    name_glob: str
    pids: _containers.RepeatedScalarFieldContainer[int]
    ppid: int
    user: str
    def __init__(self, name_glob: _Optional[str] = ..., user: _Optional[str] = ..., pids: _Optional[_Iterable[int]] = ..., ppid: _Optional[int] = ...) -> None: ...

class SignalProcessRequest(_message.Message):
    __slots__ = ["exit_code", "pid", "signal", "start_time", "wait"]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    pid: int
    signal: ProcessSignal
    start_time: _timestamp_pb2.Timestamp
    wait: _duration_pb2.Duration
    def __init__(self, pid: _Optional[int] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., signal: _Optional[_Union[ProcessSignal, str]] = ..., exit_code: _Optional[int] = ..., wait: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SignalProcessResponse(_message.Message):
    __slots__ = ["exit_code", "exit_signal", "exit_signal_number", "exited", "process", "waited"]
    EXITED_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    EXIT_SIGNAL_FIELD_NUMBER: _ClassVar[int]
    EXIT_SIGNAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROCESS_FIELD_NUMBER: _ClassVar[int]
    WAITED_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    exit_signal: ProcessSignal
    exit_signal_number: int
    exited: bool
    process: Process
    waited: _duration_pb2.Duration
    def __init__(self, process: _Optional[_Union[Process, _Mapping]] = ..., exited: bool = ..., exit_code: _Optional[int] = ..., exit_signal: _Optional[_Union[ProcessSignal, str]] = ..., exit_signal_number: _Optional[int] = ..., waited: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WatchProcessesRequest(_message.Message):
    __slots__ = ["fields", "filter", "include_existing", "resume_after_sequence"]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXISTING_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedScalarFieldContainer[ProcessField]
    filter: ProcessFilter
    include_existing: bool
    resume_after_sequence: int
    def __init__(self, filter: _Optional[_Union[ProcessFilter, _Mapping]] = ..., include_existing: bool = ..., fields: _Optional[_Iterable[_Union[ProcessField, str]]] = ..., resume_after_sequence: _Optional[int] = ...) -> None: ...

class WatchProcessesResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: ProcessEvent
    def __init__(self, event: _Optional[_Union[ProcessEvent, _Mapping]] = ...) -> None: ...

class ProcessField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ProcessStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ProcessSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ProcessEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ProcessSignal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
