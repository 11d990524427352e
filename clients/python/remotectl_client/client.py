"""A small typed wrapper over the generated remotectl.v1 stubs.

Errors are the standard ``grpc.RpcError``: ``err.code()`` is the
``grpc.StatusCode`` the agent returned (INVALID_ARGUMENT for a bad filter,
NOT_FOUND for an unknown service, PERMISSION_DENIED for a caller the agent's
policy does not allow, UNAVAILABLE when the agent cannot be reached or the
TLS handshake fails).
"""

from __future__ import annotations

from typing import Iterable, Iterator, Optional, Sequence

import grpc
from google.protobuf import duration_pb2

from remotectl.v1 import agent_pb2, agent_pb2_grpc
from remotectl.v1 import process_pb2, process_pb2_grpc
from remotectl.v1 import service_pb2, service_pb2_grpc


# How long the agent waits for a state change when the request sets no timeout.
AGENT_DEFAULT_WAIT = 30.0


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class ProcessWatch:
    """An open WatchProcesses stream: iterate it for ProcessEvents, cancel() to end it."""

    def __init__(self, call: grpc.Call):
        self._call = call

    def __iter__(self) -> Iterator[process_pb2.ProcessEvent]:
        for resp in self._call:
            yield resp.event

    def cancel(self) -> None:
        self._call.cancel()

    def __enter__(self) -> "ProcessWatch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


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

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def heartbeat(self) -> agent_pb2.HeartbeatResponse:
        return self.agent.Heartbeat(agent_pb2.HeartbeatRequest(), timeout=self._timeout)

    def list_processes(self, name_glob: str = "", user: str = "", pids: Iterable[int] = (),
                       sort: int = process_pb2.PROCESS_SORT_PID, limit: int = 0,
                       fields: Sequence[int] = ()) -> process_pb2.ListProcessesResponse:
        """Lists processes; empty fields means all of them."""
        req = process_pb2.ListProcessesRequest(
            filter=process_pb2.ProcessFilter(name_glob=name_glob, user=user, pids=list(pids)),
            sort=sort, limit=limit, fields=list(fields))
        return self.processes.ListProcesses(req, timeout=self._timeout)

    def watch_processes(self, name_glob: str = "", user: str = "", include_existing: bool = False,
                        timeout: Optional[float] = None) -> ProcessWatch:
        """Opens a process event stream.

        timeout, if set, is a deadline for the whole stream (None: until cancel()).
        Request errors (a bad glob) raise grpc.RpcError here, before any event:
        the agent confirms a subscription with response headers first, so
        waiting for them tells a refused stream from an accepted one.
        """
        req = process_pb2.WatchProcessesRequest(
            filter=process_pb2.ProcessFilter(name_glob=name_glob, user=user),
            include_existing=include_existing)
        call = self.processes.WatchProcesses(req, timeout=timeout)
        call.initial_metadata()  # blocks until accepted or refused
        if call.done() and call.code() != grpc.StatusCode.OK:
            raise call  # the call object is the grpc.RpcError
        return ProcessWatch(call)

    def stop_service(self, name: str, timeout_seconds: float = 0,
                     stop_dependents: bool = False) -> service_pb2.StopServiceResponse:
        """Stops a service and waits (up to timeout_seconds; 0 = agent default) for it to stop.

        stop_dependents also stops the services that depend on it, where the
        platform refuses otherwise (Windows SCM).
        """
        req = service_pb2.StopServiceRequest(name=name, stop_dependents=stop_dependents)
        if timeout_seconds:
            req.timeout.CopyFrom(duration_pb2.Duration(seconds=int(timeout_seconds),
                                                       nanos=int((timeout_seconds % 1) * 1e9)))
        # The deadline covers the agent's wait for the stop (its default is 30 s) plus the call itself.
        return self.services.StopService(req, timeout=self._timeout + (timeout_seconds or AGENT_DEFAULT_WAIT))

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
            req.wait.CopyFrom(duration_pb2.Duration(seconds=int(wait_seconds), nanos=int((wait_seconds % 1) * 1e9)))
        return self.processes.SignalProcess(req, timeout=self._timeout + wait_seconds)

    def get_service(self, name: str) -> service_pb2.Service:
        return self.services.GetService(service_pb2.GetServiceRequest(name=name), timeout=self._timeout).service
