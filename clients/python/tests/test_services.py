"""Service control, service watches and whoami against a real ctld.

The service tests need a reachable service manager: scripts/test-clients.sh
runs ctld inside the systemd harness (scripts/systemd-harness.sh) when it can
and names a unit private to these tests in REMOTECTL_PY_UNIT.
"""

import os
import unittest

import grpc

import remotectl_client
from remotectl.v1 import service_pb2
from tests.test_client import agent_env


class ServiceTest(unittest.TestCase):
    def setUp(self):
        addr, ca, cert, key = agent_env()
        self.client = remotectl_client.Client(addr, ca, cert, key, timeout=15)
        self.addCleanup(self.client.close)

    def unit(self):
        services = [b for b in self.client.heartbeat().backends if b.capability == "services"][0]
        unit = os.environ.get("REMOTECTL_PY_UNIT")
        if not services.available or not unit:
            self.skipTest("no service manager on the agent, or REMOTECTL_PY_UNIT unset (run scripts/test-clients.sh as root)")
        return unit

    def test_whoami(self):
        me = self.client.whoami()
        self.assertEqual(me.common_name, "remotectl-admin")

    def test_control_and_watch(self):
        unit = self.unit()
        self.client.start_service(unit, timeout_seconds=20)
        listed = self.client.list_services(name_glob=unit)
        self.assertEqual([s.name for s in listed.services], [unit])
        self.assertEqual(self.client.get_service(unit).state, service_pb2.SERVICE_STATE_RUNNING)

        with self.client.watch_services(name_glob=unit, include_existing=True, timeout=60) as watch:
            events = iter(watch)
            existing = next(events)
            self.assertEqual((existing.type, existing.name, existing.new_state),
                             (service_pb2.SERVICE_EVENT_TYPE_EXISTING, unit, service_pb2.SERVICE_STATE_RUNNING))
            self.assertEqual(next(events).type, service_pb2.SERVICE_EVENT_TYPE_SYNCED)

            stopped = self.client.stop_service(unit, timeout_seconds=20)
            self.assertTrue(stopped.changed)
            self.assertEqual(stopped.previous_state, service_pb2.SERVICE_STATE_RUNNING)
            self.assertEqual(stopped.service.state, service_pb2.SERVICE_STATE_STOPPED)
            # The watch sees the unit leave "running", then arrive at "stopped".
            states = []
            while not states or states[-1] != service_pb2.SERVICE_STATE_STOPPED:
                ev = next(events)
                self.assertEqual((ev.type, ev.name), (service_pb2.SERVICE_EVENT_TYPE_CHANGED, unit))
                states.append(ev.new_state)

        again = self.client.stop_service(unit, timeout_seconds=20)
        self.assertFalse(again.changed)  # already stopped: nothing to do
        restarted = self.client.restart_service(unit, timeout_seconds=20)
        self.assertEqual(restarted.service.state, service_pb2.SERVICE_STATE_RUNNING)
        self.assertGreater(restarted.service.main_pid, 0)

    def test_follow_services_snapshot(self):
        unit = self.unit()
        follower = self.client.follow_services(name_glob=unit, include_existing=True)
        first = next(follower)
        self.assertEqual((first.type, first.name), (service_pb2.SERVICE_EVENT_TYPE_EXISTING, unit))
        follower.close()  # cancels the stream

    def test_logs_stub_reaches_the_agent(self):
        # LogService has no wrapper yet; its stub is on the client. A request
        # without a source is refused by the agent itself (not UNIMPLEMENTED).
        from remotectl.v1 import log_pb2
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.logs.ReadLogs(log_pb2.ReadLogsRequest(), timeout=15)
        self.assertIn(cm.exception.code(), (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED),
                      cm.exception.details())

    def test_get_unknown_service(self):
        self.unit()
        with self.assertRaises(grpc.RpcError) as cm:
            self.client.get_service("remotectl-no-such-unit.service")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
