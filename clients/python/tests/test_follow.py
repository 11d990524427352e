"""The reconnect policy of the followers, with fake streams (no agent)."""

import unittest

import grpc

import remotectl_client
from remotectl.v1 import process_pb2


class FakeError(grpc.RpcError):
    def __init__(self, code):
        super().__init__()
        self._code = code

    def code(self):
        return self._code


class FakeCall:
    """What grpc returns for a server stream: iterable, cancellable, with headers."""

    def __init__(self, start, events, end=None):
        self.start, self.events, self.end, self.cancelled = start, events, end, False

    def initial_metadata(self):
        return [("remotectl-watch-sequence", str(self.start))]

    def done(self):
        return False

    def __iter__(self):
        for ev in self.events:
            yield process_pb2.WatchProcessesResponse(event=ev)
        if self.end is not None:
            raise self.end

    def cancel(self):
        self.cancelled = True


def ev(seq, typ, pid=0):
    return process_pb2.ProcessEvent(sequence=seq, type=typ, process=process_pb2.Process(pid=pid))


STARTED, EXITED, EXISTING, SYNCED, RESYNC = (process_pb2.PROCESS_EVENT_TYPE_STARTED, process_pb2.PROCESS_EVENT_TYPE_EXITED,
                                             process_pb2.PROCESS_EVENT_TYPE_EXISTING, process_pb2.PROCESS_EVENT_TYPE_SYNCED,
                                             process_pb2.PROCESS_EVENT_TYPE_RESYNC)


class FakeStub:
    def __init__(self, calls):
        self.calls, self.requests = list(calls), []

    def WatchProcesses(self, req, timeout=None):
        self.requests.append(req)
        c = self.calls.pop(0)
        if isinstance(c, Exception):
            raise c
        return c


def client_with(calls):
    c = remotectl_client.Client.__new__(remotectl_client.Client)  # no channel: the stub is fake
    c.processes = FakeStub(calls)
    return c


class FollowTest(unittest.TestCase):
    def setUp(self):
        self.waits = []
        self.backoff = remotectl_client.Backoff(initial=0.25, maximum=1.0, sleep=self.waits.append)

    def test_resumes_after_the_last_event(self):
        first = FakeCall(10, [ev(11, STARTED, 5), ev(12, EXITED, 5)], FakeError(grpc.StatusCode.UNAVAILABLE))
        second = FakeCall(12, [ev(13, STARTED, 6)])
        c = client_with([first, FakeError(grpc.StatusCode.UNAVAILABLE), second])
        causes = []
        it = c.follow_processes(name_glob="x", backoff=self.backoff, on_reconnect=lambda e, d: causes.append(e.code()))
        got = [next(it).sequence for _ in range(3)]
        self.assertEqual(got, [11, 12, 13])
        reqs = c.processes.requests
        self.assertEqual([r.resume_after_sequence for r in reqs], [0, 12, 12])
        self.assertEqual(reqs[1].filter.name_glob, "x")
        self.assertEqual(causes, [grpc.StatusCode.UNAVAILABLE] * 2)
        self.assertEqual(len(self.waits), 2)
        self.assertTrue(all(0 < w <= 0.5 for w in self.waits), self.waits)
        self.assertTrue(first.cancelled)
        it.close()
        self.assertTrue(second.cancelled)

    def test_cut_snapshot_restarts_with_resync(self):
        first = FakeCall(20, [ev(20, EXISTING, 1)], FakeError(grpc.StatusCode.RESOURCE_EXHAUSTED))
        second = FakeCall(25, [ev(25, EXISTING, 1), ev(25, SYNCED)])
        c = client_with([first, second])
        it = c.follow_processes(include_existing=True, backoff=self.backoff)
        got = [(e.sequence, e.type) for e in (next(it) for _ in range(4))]
        self.assertEqual(got, [(20, EXISTING), (25, RESYNC), (25, EXISTING), (25, SYNCED)])
        self.assertEqual((c.processes.requests[1].resume_after_sequence, c.processes.requests[1].include_existing), (0, True))
        it.close()

    def test_other_errors_end_the_follow(self):
        c = client_with([FakeCall(1, [], FakeError(grpc.StatusCode.PERMISSION_DENIED))])
        with self.assertRaises(grpc.RpcError) as cm:
            list(c.follow_processes(backoff=self.backoff))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(self.waits, [])

    def test_backoff_doubles_to_the_maximum(self):
        ceilings = [0.25, 0.5, 1.0, 1.0]
        for d, ceiling in zip(remotectl_client.Backoff(initial=0.25, maximum=1.0).delays(), ceilings):
            self.assertTrue(0 < d <= ceiling, (d, ceiling))


if __name__ == "__main__":
    unittest.main()
