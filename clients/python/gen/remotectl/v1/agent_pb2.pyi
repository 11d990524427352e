from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Backend(_message.Message):
    __slots__ = ["available", "capability", "implementation", "reason"]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    IMPLEMENTATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    available: bool
    capability: str
    implementation: str
    reason: str
    def __init__(self, capability: _Optional[str] = ..., implementation: _Optional[str] = ..., available: bool = ..., reason: _Optional[str] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ["agent_commit", "agent_start_time", "agent_version", "architecture", "backends", "boot_time", "cpu_count", "cpu_percent", "cpu_percent_window", "hostname", "kernel_version", "load_average", "memory_available_bytes", "memory_total_bytes", "memory_used_bytes", "os", "platform", "platform_version", "process_count", "server_cert_not_after", "server_cert_serial", "server_time"]
    AGENT_COMMIT_FIELD_NUMBER: _ClassVar[int]
    AGENT_START_TIME_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    BACKENDS_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_FIELD_NUMBER: _ClassVar[int]
    CPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    KERNEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    LOAD_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_AVAILABLE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERVER_CERT_NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    SERVER_CERT_SERIAL_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    agent_commit: str
    agent_start_time: _timestamp_pb2.Timestamp
    agent_version: str
    architecture: str
    backends: _containers.RepeatedCompositeFieldContainer[Backend]
    boot_time: _timestamp_pb2.Timestamp
    cpu_count: int
    cpu_percent: float
    cpu_percent_window: _duration_pb2.Duration
    hostname: str
    kernel_version: str
    load_average: LoadAverage
    memory_available_bytes: int
    memory_total_bytes: int
    memory_used_bytes: int
    os: str
    platform: str
    platform_version: str
    process_count: int
    server_cert_not_after: _timestamp_pb2.Timestamp
    server_cert_serial: str
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, agent_version: _Optional[str] = ..., agent_commit: _Optional[str] = ..., hostname: _Optional[str] = ..., os: _Optional[str] = ..., platform: _Optional[str] = ..., platform_version: _Optional[str] = ..., kernel_version: _Optional[str] = ..., architecture: _Optional[str] = ..., boot_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., agent_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., server_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., cpu_count: _Optional[int] = ..., cpu_percent: _Optional[float] = ..., cpu_percent_window: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., memory_total_bytes: _Optional[int] = ..., memory_used_bytes: _Optional[int] = ..., memory_available_bytes: _Optional[int] = ..., load_average: _Optional[_Union[LoadAverage, _Mapping]] = ..., process_count: _Optional[int] = ..., backends: _Optional[_Iterable[_Union[Backend, _Mapping]]] = ..., server_cert_not_after: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., server_cert_serial: _Optional[str] = ...) -> None: ...

class LoadAverage(_message.Message):
    __slots__ = ["load1", "load15", "load5"]
    LOAD15_FIELD_NUMBER: _ClassVar[int]
    LOAD1_FIELD_NUMBER: _ClassVar[int]
    LOAD5_FIELD_NUMBER: _ClassVar[int]
    load1: float
    load15: float
    load5: float
    def __init__(self, load1: _Optional[float] = ..., load5: _Optional[float] = ..., load15: _Optional[float] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ["common_name", "dns_names", "organizational_units", "permissions", "protected_services", "roles", "serial", "service_allow_lists", "subject", "uris"]
    COMMON_NAME_FIELD_NUMBER: _ClassVar[int]
    DNS_NAMES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATIONAL_UNITS_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_SERVICES_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ALLOW_LISTS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    URIS_FIELD_NUMBER: _ClassVar[int]
    common_name: str
    dns_names: _containers.RepeatedScalarFieldContainer[str]
    organizational_units: _containers.RepeatedScalarFieldContainer[str]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    protected_services: _containers.RepeatedScalarFieldContainer[str]
    roles: _containers.RepeatedScalarFieldContainer[str]
    serial: str
    service_allow_lists: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    uris: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, common_name: _Optional[str] = ..., organizational_units: _Optional[_Iterable[str]] = ..., uris: _Optional[_Iterable[str]] = ..., dns_names: _Optional[_Iterable[str]] = ..., serial: _Optional[str] = ..., subject: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., permissions: _Optional[_Iterable[str]] = ..., protected_services: _Optional[_Iterable[str]] = ..., service_allow_lists: _Optional[_Iterable[str]] = ...) -> None: ...
