from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SERVICE_EVENT_TYPE_CHANGED: ServiceEventType
SERVICE_EVENT_TYPE_EXISTING: ServiceEventType
SERVICE_EVENT_TYPE_RESYNC: ServiceEventType
SERVICE_EVENT_TYPE_SYNCED: ServiceEventType
SERVICE_EVENT_TYPE_UNSPECIFIED: ServiceEventType
SERVICE_START_TYPE_AUTOMATIC: ServiceStartType
SERVICE_START_TYPE_AUTOMATIC_DELAYED: ServiceStartType
SERVICE_START_TYPE_DISABLED: ServiceStartType
SERVICE_START_TYPE_MANUAL: ServiceStartType
SERVICE_START_TYPE_UNSPECIFIED: ServiceStartType
SERVICE_STATE_FAILED: ServiceState
SERVICE_STATE_PAUSED: ServiceState
SERVICE_STATE_RELOADING: ServiceState
SERVICE_STATE_RUNNING: ServiceState
SERVICE_STATE_STARTING: ServiceState
SERVICE_STATE_STOPPED: ServiceState
SERVICE_STATE_STOPPING: ServiceState
SERVICE_STATE_UNSPECIFIED: ServiceState

class GetServiceRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetServiceResponse(_message.Message):
    __slots__ = ["service"]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ["name_glob", "states"]
    NAME_GLOB_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    name_glob: str
    states: _containers.RepeatedScalarFieldContainer[ServiceState]
    def __init__(self, name_glob: _Optional[str] = ..., states: _Optional[_Iterable[_Union[ServiceState, str]]] = ...) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ["manager", "services"]
    MANAGER_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    manager: str
    services: _containers.RepeatedCompositeFieldContainer[Service]
    def __init__(self, services: _Optional[_Iterable[_Union[Service, _Mapping]]] = ..., manager: _Optional[str] = ...) -> None: ...

class RestartServiceRequest(_message.Message):
    __slots__ = ["name", "stop_dependents", "timeout"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STOP_DEPENDENTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    stop_dependents: bool
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., stop_dependents: bool = ...) -> None: ...

class RestartServiceResponse(_message.Message):
    __slots__ = ["changed", "previous_state", "service"]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    changed: bool
    previous_state: ServiceState
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., previous_state: _Optional[_Union[ServiceState, str]] = ..., changed: bool = ...) -> None: ...

class Service(_message.Message):
    __slots__ = ["command", "dependencies", "dependents", "description", "display_name", "main_pid", "name", "native_start_type", "native_state", "start_type", "state"]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    DEPENDENTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MAIN_PID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NATIVE_START_TYPE_FIELD_NUMBER: _ClassVar[int]
    NATIVE_STATE_FIELD_NUMBER: _ClassVar[int]
    START_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    command: str
    dependencies: _containers.RepeatedScalarFieldContainer[str]
    dependents: _containers.RepeatedScalarFieldContainer[str]
    description: str
    display_name: str
    main_pid: int
    name: str
    native_start_type: str
    native_state: str
    start_type: ServiceStartType
    state: ServiceState
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., state: _Optional[_Union[ServiceState, str]] = ..., native_state: _Optional[str] = ..., start_type: _Optional[_Union[ServiceStartType, str]] = ..., native_start_type: _Optional[str] = ..., main_pid: _Optional[int] = ..., command: _Optional[str] = ..., dependencies: _Optional[_Iterable[str]] = ..., dependents: _Optional[_Iterable[str]] = ...) -> None: ...

class ServiceEvent(_message.Message):
    __slots__ = ["main_pid", "name", "native_state", "new_state", "old_state", "sequence", "time", "type"]
    MAIN_PID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NATIVE_STATE_FIELD_NUMBER: _ClassVar[int]
    NEW_STATE_FIELD_NUMBER: _ClassVar[int]
    OLD_STATE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    main_pid: int
    name: str
    native_state: str
    new_state: ServiceState
    old_state: ServiceState
    sequence: int
    time: _timestamp_pb2.Timestamp
    type: ServiceEventType
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[ServiceEventType, str]] = ..., name: _Optional[str] = ..., old_state: _Optional[_Union[ServiceState, str]] = ..., new_state: _Optional[_Union[ServiceState, str]] = ..., native_state: _Optional[str] = ..., main_pid: _Optional[int] = ...) -> None: ...

class SetServiceStartTypeRequest(_message.Message):
    __slots__ = ["name", "now", "start_type", "timeout"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    START_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    now: bool
    start_type: ServiceStartType
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., start_type: _Optional[_Union[ServiceStartType, str]] = ..., now: bool = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SetServiceStartTypeResponse(_message.Message):
    __slots__ = ["changed", "previous_native_start_type", "previous_start_type", "previous_state", "service"]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_NATIVE_START_TYPE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_START_TYPE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    changed: bool
    previous_native_start_type: str
    previous_start_type: ServiceStartType
    previous_state: ServiceState
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., previous_start_type: _Optional[_Union[ServiceStartType, str]] = ..., previous_native_start_type: _Optional[str] = ..., previous_state: _Optional[_Union[ServiceState, str]] = ..., changed: bool = ...) -> None: ...

class StartServiceRequest(_message.Message):
    __slots__ = ["name", "timeout"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StartServiceResponse(_message.Message):
    __slots__ = ["changed", "previous_state", "service"]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    changed: bool
    previous_state: ServiceState
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., previous_state: _Optional[_Union[ServiceState, str]] = ..., changed: bool = ...) -> None: ...

class StopServiceRequest(_message.Message):
    __slots__ = ["name", "stop_dependents", "timeout"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STOP_DEPENDENTS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    stop_dependents: bool
    timeout: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., stop_dependents: bool = ...) -> None: ...

class StopServiceResponse(_message.Message):
    __slots__ = ["changed", "previous_state", "service"]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    changed: bool
    previous_state: ServiceState
    service: Service
    def __init__(self, service: _Optional[_Union[Service, _Mapping]] = ..., previous_state: _Optional[_Union[ServiceState, str]] = ..., changed: bool = ...) -> None: ...

class WatchServicesRequest(_message.Message):
    __slots__ = ["include_existing", "name_glob", "resume_after_sequence", "states"]
    INCLUDE_EXISTING_FIELD_NUMBER: _ClassVar[int]
    NAME_GLOB_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    include_existing: bool
    name_glob: str
    resume_after_sequence: int
    states: _containers.RepeatedScalarFieldContainer[ServiceState]
    def __init__(self, name_glob: _Optional[str] = ..., states: _Optional[_Iterable[_Union[ServiceState, str]]] = ..., include_existing: bool = ..., resume_after_sequence: _Optional[int] = ...) -> None: ...

class WatchServicesResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: ServiceEvent
    def __init__(self, event: _Optional[_Union[ServiceEvent, _Mapping]] = ...) -> None: ...

class ServiceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ServiceStartType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ServiceEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
