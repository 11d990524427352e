"""A typed wrapper over every RPC of the generated remotectl.v1 stubs.

Errors are the standard ``grpc.RpcError``: ``err.code()`` is the
``grpc.StatusCode`` the agent returned (INVALID_ARGUMENT for a bad filter,
NOT_FOUND for an unknown service, PERMISSION_DENIED for a caller the agent's
policy does not allow, UNAVAILABLE when the agent cannot be reached or the
TLS handshake fails).

Adding an RPC: a unary one is one method calling its stub with
``timeout=self._timeout``; a server stream one method calling ``self._watch``
(and, to survive reconnects, one more built on ``follow``).
"""

from __future__ import annotations

from typing import Callable, Generic, Iterable, Iterator, Optional, Sequence, Tuple, TypeVar

import grpc
from google.protobuf import duration_pb2

from remotectl.v1 import agent_pb2, agent_pb2_grpc
from remotectl.v1 import log_pb2_grpc
from remotectl.v1 import process_pb2, process_pb2_grpc
from remotectl.v1 import service_pb2, service_pb2_grpc
from remotectl_client.follow import Backoff, OnReconnect, follow

# How long the agent waits for a state change when the request sets no timeout.
AGENT_DEFAULT_WAIT = 30.0

# Response header carrying the sequence number a WatchProcesses stream starts after.
WATCH_SEQUENCE_HEADER = "remotectl-watch-sequence"

E = TypeVar("E")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _duration(seconds: float) -> Optional[duration_pb2.Duration]:
    if not seconds:
        return None
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


class Watch(Generic[E]):
    """An open event stream: iterate it for events; cancel() (or leaving a
    ``with`` block) ends it. start_sequence is the position the agent started
    the stream after (WatchProcesses), 0 when it does not say."""

    def __init__(self, call: grpc.Call, event: Callable[[object], E]):
        self._call = call
        self._event = event
        self.start_sequence = 0
        for k, v in call.initial_metadata() or ():
            if k == WATCH_SEQUENCE_HEADER:
                self.start_sequence = int(v)

    def __iter__(self) -> Iterator[E]:
        for resp in self._call:
            yield self._event(resp)

    def cancel(self) -> None:
        self._call.cancel()

    def __enter__(self) -> "Watch[E]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


# The name of the 0.1 wrapper, kept for callers that used it.
ProcessWatch = Watch


def _resynced(w: Watch[process_pb2.ProcessEvent]) -> Iterator[process_pb2.ProcessEvent]:
    """A fresh snapshot after a reconnect, marked with RESYNC as the agent marks its own."""
    yield process_pb2.ProcessEvent(sequence=w.start_sequence, type=process_pb2.PROCESS_EVENT_TYPE_RESYNC)
    yield from w


class Client:
    """A connection to one agent over mutual TLS.

    target is HOST:PORT; ca, cert and key are PEM file paths (the agent's CA and
    this client's certificate and key). server_name overrides the name checked
    against the agent's certificate (for connecting by an address the
    certificate does not list). timeout bounds every unary call, in seconds.
    """

    def __init__(self, target: str, ca: str, cert: str, key: str,
                 server_name: Optional[str] = None, timeout: float = 30.0):
        creds = grpc.ssl_channel_credentials(
            root_certificates=_read(ca), private_key=_read(key), certificate_chain=_read(cert))
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        self._channel = grpc.secure_channel(target, creds, options=options)
        self._timeout = timeout
        self.agent = agent_pb2_grpc.AgentServiceStub(self._channel)
        self.processes = process_pb2_grpc.ProcessServiceStub(self._channel)
        self.services = service_pb2_grpc.ServiceManagerStub(self._channel)
        # LogService (ReadLogs, FollowLogs) has no wrapper methods yet: use the stub.
        self.logs = log_pb2_grpc.LogServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _watch(self, method: Callable[..., grpc.Call], req: object, event: Callable[[object], E],
               timeout: Optional[float]) -> Watch[E]:
        """Opens a server stream and waits until the agent accepts it.

        The agent confirms a subscription with response headers first, so
        request errors (a bad glob) raise grpc.RpcError here, before any event.
        """
        call = method(req, timeout=timeout)
        call.initial_metadata()  # blocks until accepted or refused
        if call.done() and call.code() != grpc.StatusCode.OK:
            raise call  # the call object is the grpc.RpcError
        return Watch(call, event)

    # AgentService

    def heartbeat(self) -> agent_pb2.HeartbeatResponse:
        return self.agent.Heartbeat(agent_pb2.HeartbeatRequest(), timeout=self._timeout)

    def whoami(self) -> agent_pb2.WhoAmIResponse:
        """The identity the agent sees in this client's certificate, and its roles."""
        return self.agent.WhoAmI(agent_pb2.WhoAmIRequest(), timeout=self._timeout)

    # ProcessService

    @staticmethod
    def _process_filter(name_glob: str, user: str, pids: Iterable[int], ppid: Optional[int]) -> process_pb2.ProcessFilter:
        f = process_pb2.ProcessFilter(name_glob=name_glob, user=user, pids=list(pids))
        if ppid is not None:
            f.ppid = ppid
        return f

    def list_processes(self, name_glob: str = "", user: str = "", pids: Iterable[int] = (),
                       sort: int = process_pb2.PROCESS_SORT_PID, limit: int = 0,
                       fields: Sequence[int] = (), ppid: Optional[int] = None) -> process_pb2.ListProcessesResponse:
        """Lists processes; empty fields means all of them."""
        req = process_pb2.ListProcessesRequest(
            filter=self._process_filter(name_glob, user, pids, ppid), sort=sort, limit=limit, fields=list(fields))
        return self.processes.ListProcesses(req, timeout=self._timeout)

    def watch_processes(self, name_glob: str = "", user: str = "", include_existing: bool = False,
                        timeout: Optional[float] = None, pids: Iterable[int] = (), ppid: Optional[int] = None,
                        fields: Sequence[int] = (), resume_after_sequence: int = 0) -> Watch[process_pb2.ProcessEvent]:
        """Opens one process event stream; it ends at the first disconnect
        (follow_processes reconnects). timeout, if set, is a deadline for the
        whole stream (None: until cancel())."""
        req = process_pb2.WatchProcessesRequest(
            filter=self._process_filter(name_glob, user, pids, ppid), include_existing=include_existing,
            fields=list(fields), resume_after_sequence=resume_after_sequence)
        return self._watch(self.processes.WatchProcesses, req, lambda r: r.event, timeout)

    def follow_processes(self, name_glob: str = "", user: str = "", include_existing: bool = False,
                         pids: Iterable[int] = (), ppid: Optional[int] = None, fields: Sequence[int] = (),
                         backoff: Optional[Backoff] = None,
                         on_reconnect: Optional[OnReconnect] = None) -> Iterator[process_pb2.ProcessEvent]:
        """Process events that survive disconnects and agent restarts.

        After a retryable end (UNAVAILABLE, RESOURCE_EXHAUSTED, or the agent
        closing the stream) it reconnects with backoff and asks the agent to
        resume after the last event seen. The agent resumes without a gap, or
        the caller gets a RESYNC event followed by a fresh snapshot (EXISTING...,
        SYNCED) and should replace its view. Stop by leaving the loop.
        """
        last, in_snapshot = 0, include_existing

        def open_stream(reconnecting: bool) -> Tuple[Iterable[process_pb2.ProcessEvent], Callable[[], None]]:
            nonlocal last
            # A cut snapshot cannot be resumed: start a fresh one.
            resync = reconnecting and (in_snapshot or last == 0)
            w = self.watch_processes(name_glob, user, include_existing or resync, None, pids, ppid, fields,
                                     last if reconnecting and not resync else 0)
            if not reconnecting:
                last = w.start_sequence
            return _resynced(w) if resync else w, w.cancel

        for ev in follow(open_stream, backoff, on_reconnect):
            if ev.type in (process_pb2.PROCESS_EVENT_TYPE_RESYNC, process_pb2.PROCESS_EVENT_TYPE_EXISTING):
                in_snapshot = True
            elif ev.type in (process_pb2.PROCESS_EVENT_TYPE_SYNCED, process_pb2.PROCESS_EVENT_TYPE_STARTED,
                             process_pb2.PROCESS_EVENT_TYPE_EXITED):
                in_snapshot, last = False, ev.sequence
            yield ev

    # ServiceManager

    def list_services(self, name_glob: str = "", states: Sequence[int] = ()) -> service_pb2.ListServicesResponse:
        return self.services.ListServices(
            service_pb2.ListServicesRequest(name_glob=name_glob, states=list(states)), timeout=self._timeout)

    def get_service(self, name: str) -> service_pb2.Service:
        return self.services.GetService(service_pb2.GetServiceRequest(name=name), timeout=self._timeout).service

    def _control_deadline(self, timeout_seconds: float) -> float:
        # The deadline covers the agent's wait for the change (its default is 30 s) plus the call itself.
        return self._timeout + (timeout_seconds or AGENT_DEFAULT_WAIT)

    def start_service(self, name: str, timeout_seconds: float = 0) -> service_pb2.StartServiceResponse:
        """Starts a service and waits (up to timeout_seconds; 0 = agent default) until it runs."""
        req = service_pb2.StartServiceRequest(name=name, timeout=_duration(timeout_seconds))
        return self.services.StartService(req, timeout=self._control_deadline(timeout_seconds))

    def stop_service(self, name: str, timeout_seconds: float = 0,
                     stop_dependents: bool = False) -> service_pb2.StopServiceResponse:
        """Stops a service and waits (up to timeout_seconds; 0 = agent default) for it to stop.

        stop_dependents also stops the services that depend on it, where the
        platform refuses otherwise (Windows SCM).
        """
        req = service_pb2.StopServiceRequest(name=name, timeout=_duration(timeout_seconds), stop_dependents=stop_dependents)
        return self.services.StopService(req, timeout=self._control_deadline(timeout_seconds))

    def restart_service(self, name: str, timeout_seconds: float = 0,
                        stop_dependents: bool = False) -> service_pb2.RestartServiceResponse:
        """Restarts a service (starts it when stopped) and waits until it runs again."""
        req = service_pb2.RestartServiceRequest(name=name, timeout=_duration(timeout_seconds), stop_dependents=stop_dependents)
        return self.services.RestartService(req, timeout=self._control_deadline(timeout_seconds))

    def watch_services(self, name_glob: str = "", states: Sequence[int] = (), include_existing: bool = False,
                       timeout: Optional[float] = None) -> Watch[service_pb2.ServiceEvent]:
        """Opens one service state-change stream (see watch_processes)."""
        req = service_pb2.WatchServicesRequest(name_glob=name_glob, states=list(states), include_existing=include_existing)
        return self._watch(self.services.WatchServices, req, lambda r: r.event, timeout)

    def follow_services(self, name_glob: str = "", states: Sequence[int] = (), include_existing: bool = False,
                        backoff: Optional[Backoff] = None,
                        on_reconnect: Optional[OnReconnect] = None) -> Iterator[service_pb2.ServiceEvent]:
        """Service events that survive disconnects and agent restarts.

        Service watches cannot resume: after a reconnect the agent sends a
        fresh snapshot (EXISTING... then SYNCED), so a caller that keeps a view
        replaces it when EXISTING events follow a reconnect.
        """
        def open_stream(reconnecting: bool) -> Tuple[Iterable[service_pb2.ServiceEvent], Callable[[], None]]:
            w = self.watch_services(name_glob, states, include_existing or reconnecting)
            return w, w.cancel

        yield from follow(open_stream, backoff, on_reconnect)

    def signal_process(self, process: process_pb2.Process, signal: int = process_pb2.PROCESS_SIGNAL_TERM,
                       wait_seconds: float = 0) -> process_pb2.SignalProcessResponse:
        """Signals a process by identity (its pid and start time, as listed).

        A pid reused by another process since the listing is NOT_FOUND, never
        signalled; a protected process is PERMISSION_DENIED naming the rule.
        wait_seconds (at most 600) waits for the process to exit.
        """
        req = process_pb2.SignalProcessRequest(pid=process.pid, signal=signal)
        req.start_time.CopyFrom(process.start_time)
        if wait_seconds:
            req.wait.CopyFrom(_duration(wait_seconds))
        return self.processes.SignalProcess(req, timeout=self._timeout + wait_seconds)
