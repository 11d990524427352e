"""Tests of the Python client against a real ctld on loopback.

scripts/test-clients.sh starts ctld with a fresh dev PKI and sets:
REMOTECTL_ADDR, REMOTECTL_CA, REMOTECTL_CERT, REMOTECTL_KEY (the dev admin
client), REMOTECTL_UNBOUND_CERT, REMOTECTL_UNBOUND_KEY (a client certificate
from the agent's CA that no authorization binding matches) and
REMOTECTL_ROGUE_CERT, REMOTECTL_ROGUE_KEY (a client certificate from a CA the
agent does not trust). Run: python3 -m unittest -v tests
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import unittest

import grpc

import remotectl_client
from remotectl.v1 import agent_pb2, process_pb2

ENV = ("REMOTECTL_ADDR", "REMOTECTL_CA", "REMOTECTL_CERT", "REMOTECTL_KEY")


def agent_env():
    missing = [k for k in ENV if not os.environ.get(k)]
    if missing:
        raise unittest.SkipTest("no agent under test (%s unset): run scripts/test-clients.sh" % ", ".join(missing))
    return [os.environ[k] for k in ENV]


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.addr, self.ca, self.cert, self.key = agent_env()
        self.client = remotectl_client.Client(self.addr, self.ca, self.cert, self.key, timeout=15)
        self.addCleanup(self.client.close)

    def named_sleep(self):
        """Copies sleep(1) under a unique short name (comm keeps 15 bytes)."""
        name = "rctlpy-" + secrets.token_hex(3)
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        path = os.path.join(d, name)
        shutil.copy(shutil.which("sleep"), path)
        return name, path

    def spawn(self, *args):
        p = subprocess.Popen(args)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        return p

    def test_heartbeat(self):
        hb = self.client.heartbeat()
        self.assertEqual(hb.hostname, socket.gethostname())
        self.assertGreater(hb.process_count, 0)
        self.assertIsInstance(hb, agent_pb2.HeartbeatResponse)

    def test_list_processes(self):
        name, path = self.named_sleep()
        child = self.spawn(path, "30")
        resp = self.client.list_processes(name_glob=name)
        self.assertEqual([p.pid for p in resp.processes], [child.pid])
        proc = resp.processes[0]
        self.assertEqual(proc.name, name)
        self.assertEqual(list(proc.args), [path, "30"])
        self.assertEqual(proc.ppid, os.getpid())

        limited = self.client.list_processes(limit=3, sort=process_pb2.PROCESS_SORT_PID)
        self.assertEqual(len(limited.processes), 3)
        self.assertGreaterEqual(limited.total_matched, 3)
        pids = [p.pid for p in limited.processes]
        self.assertEqual(pids, sorted(pids))

    def test_watch_sees_start_and_exit(self):
        name, path = self.named_sleep()
        with self.client.watch_processes(name_glob=name, include_existing=True, timeout=30) as watch:
            events = iter(watch)
            synced = next(events)
            self.assertEqual(synced.type, process_pb2.PROCESS_EVENT_TYPE_SYNCED)  # nothing existed yet
            child = self.spawn(path, "1")
            started = next(events)
            self.assertEqual(started.type, process_pb2.PROCESS_EVENT_TYPE_STARTED)
            self.assertEqual(started.process.pid, child.pid)
            self.assertEqual(started.process.name, name)
            child.wait()  # reap, so the process leaves /proc
            exited = next(events)
            self.assertEqual(exited.type, process_pb2.PROCESS_EVENT_TYPE_EXITED)
            self.assertEqual(exited.process.pid, child.pid)
            self.assertEqual(exited.process.start_time, started.process.start_time)
            # Host-wide numbers (ProcessEvent.sequence): SYNCED carries the last
            # event its snapshot reflects; later events on the stream are
            # strictly greater, with gaps for other processes' events.
            self.assertLess(synced.sequence, started.sequence)
            self.assertLess(started.sequence, exited.sequence)

    def test_signal_process_by_identity(self):
        name, path = self.named_sleep()
        child = self.spawn(path, "30")
        proc = self.client.list_processes(name_glob=name).processes[0]
        stale = process_pb2.Process()
        stale.CopyFrom(proc)
        stale.start_time.seconds -= 5  # what a reused pid looks like
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.signal_process(stale, process_pb2.PROCESS_SIGNAL_KILL)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIsNone(child.poll())  # the refused signal reached nothing

        resp = self.client.signal_process(proc, process_pb2.PROCESS_SIGNAL_TERM, wait_seconds=10)
        self.assertEqual(child.wait(timeout=10), -15)
        self.assertTrue(resp.exited)
        self.assertEqual(resp.process.name, name)

    def test_follow_sees_start(self):
        name, path = self.named_sleep()
        follower = self.client.follow_processes(name_glob=name, include_existing=True)
        self.assertEqual(next(follower).type, process_pb2.PROCESS_EVENT_TYPE_SYNCED)
        child = self.spawn(path, "30")
        started = next(follower)
        self.assertEqual((started.type, started.process.pid), (process_pb2.PROCESS_EVENT_TYPE_STARTED, child.pid))
        follower.close()

    def test_installed_package_is_typed(self):
        # pip installed the wrapper with its py.typed marker and the
        # generated stubs with their .pyi files: type checkers see both.
        pkg = os.path.dirname(remotectl_client.__file__)
        self.assertTrue(os.path.exists(os.path.join(pkg, "py.typed")))
        self.assertTrue(os.path.exists(process_pb2.__file__[:-3] + ".pyi"), process_pb2.__file__)

    def test_bad_glob_is_invalid_argument(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.list_processes(name_glob="[oops")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        # The stream is refused synchronously, before any event.
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.watch_processes(name_glob="[oops")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_stop_unknown_service(self):
        services = [b for b in self.client.heartbeat().backends if b.capability == "services"][0]
        want = grpc.StatusCode.NOT_FOUND if services.available else grpc.StatusCode.UNAVAILABLE
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.stop_service("remotectl-no-such-unit-%s.service" % secrets.token_hex(3), timeout_seconds=5)
        self.assertEqual(cm.exception.code(), want, cm.exception.details())

    def test_protected_service_is_permission_denied(self):
        # The agent's policy refuses before the service manager is asked, so
        # this never touches the host's ssh service.
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.stop_service("ssh.service", timeout_seconds=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED, cm.exception.details())
        self.assertIn("protected", cm.exception.details())

    def test_unbound_identity_is_permission_denied(self):
        cert, key = os.environ.get("REMOTECTL_UNBOUND_CERT"), os.environ.get("REMOTECTL_UNBOUND_KEY")
        if not cert or not key:
            self.skipTest("REMOTECTL_UNBOUND_CERT/KEY unset")
        # A certificate from the agent's CA that no policy binding matches:
        # authenticated, but without permissions beyond agent.read.
        with remotectl_client.Client(self.addr, self.ca, cert, key, timeout=10) as unbound:
            # Alive and its clock, nothing about the host (docs/security.md).
            beat = unbound.heartbeat()
            self.assertTrue(beat.HasField("server_time"))
            self.assertEqual(beat.hostname, "")
            with self.assertRaises(grpc.RpcError) as cm:
                unbound.list_processes(limit=1)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED, cm.exception.details())

    def test_untrusted_client_certificate_is_refused(self):
        cert, key = os.environ.get("REMOTECTL_ROGUE_CERT"), os.environ.get("REMOTECTL_ROGUE_KEY")
        if not cert or not key:
            self.skipTest("REMOTECTL_ROGUE_CERT/KEY unset")
        with remotectl_client.Client(self.addr, self.ca, cert, key, timeout=10) as rogue:
            with self.assertRaises(grpc.RpcError) as cm:
                rogue.heartbeat()
        # The agent rejects the handshake, so the call never reaches it.
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
