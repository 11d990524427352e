"""Reconnecting event streams: the retry policy shared by every follower."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Tuple, TypeVar

import grpc

E = TypeVar("E")

# Stream endings worth reconnecting after: the agent went away (restart,
# network) or cut a reader that fell behind. Anything else (a bad request,
# a refused identity) would fail again the same way.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass
class Backoff:
    """Delays between reconnection attempts: exponential with full jitter.

    The n-th delay is uniform in (0, min(maximum, initial * 2**n)], in seconds.
    sleep is injectable for tests.
    """

    initial: float = 0.25
    maximum: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delays(self) -> Iterator[float]:
        ceiling = self.initial
        while True:
            yield random.uniform(0, ceiling) or ceiling
            ceiling = min(2 * ceiling, self.maximum)


OnReconnect = Callable[[Optional[grpc.RpcError], float], None]


def follow(open_stream: Callable[[bool], Tuple[Iterable[E], Callable[[], None]]],
           backoff: Optional[Backoff] = None,
           on_reconnect: Optional[OnReconnect] = None) -> Iterator[E]:
    """Yields the events of a stream, reopening it when it ends retryably.

    open_stream(reconnecting) opens one stream and returns its events and a
    function that cancels it; errors of the first open are raised as they
    are. The stream is cancelled when the caller stops iterating (break, or
    close() of this generator). on_reconnect(cause, delay) is called before
    each wait; cause is None when the agent ended the stream cleanly (it
    shuts streams down when it stops).
    """
    backoff = backoff or Backoff()
    events, cancel = open_stream(False)
    try:
        while True:
            cause: Optional[grpc.RpcError] = None
            try:
                for ev in events:
                    yield ev
            except grpc.RpcError as e:
                if e.code() not in RETRYABLE:
                    raise
                cause = e
            cancel()
            for delay in backoff.delays():
                if on_reconnect is not None:
                    on_reconnect(cause, delay)
                backoff.sleep(delay)
                try:
                    events, cancel = open_stream(True)
                    break
                except grpc.RpcError as e:
                    if e.code() not in RETRYABLE:
                        raise
                    cause = e
    finally:
        cancel()
