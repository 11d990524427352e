"""The documented example of remotectl-client (docs/clients/python.md).

After `pip install ./clients/python` (see the docs for offline installs):
    REMOTECTL_ADDR=web-7:7443 REMOTECTL_CERTS=/var/lib/ctld/certs python3 quickstart.py
REMOTECTL_CERTS holds ca.crt, client.crt and client.key (ctld's dev PKI, or
what `ctl certs client` wrote). REMOTECTL_UNIT, if set, names a service to
restart (default: none is touched).
"""

import os

import grpc

from remotectl.v1 import process_pb2, service_pb2
from remotectl_client import Client

certs = os.environ.get("REMOTECTL_CERTS", "/var/lib/ctld/certs") + "/"
with Client(os.environ.get("REMOTECTL_ADDR", "localhost:7443"),
            certs + "ca.crt", certs + "client.crt", certs + "client.key") as c:
    hb = c.heartbeat()
    print("host %s (%s), agent %s, %d processes" % (hb.hostname, hb.os, hb.agent_version, hb.process_count))
    me = c.whoami()
    print("I am %s, roles %s" % (me.common_name, ",".join(me.roles)))

    for p in c.list_processes(sort=process_pb2.PROCESS_SORT_MEMORY, limit=3).processes:
        print("pid %d %s rss %d" % (p.pid, p.name, p.resident_memory_bytes))

    try:
        failed = c.list_services(states=[service_pb2.SERVICE_STATE_FAILED]).services
        print("%d failed services" % len(failed))
        unit = os.environ.get("REMOTECTL_UNIT")
        if unit:
            r = c.restart_service(unit, timeout_seconds=30)
            print("%s: %s -> %s" % (unit, service_pb2.ServiceState.Name(r.previous_state),
                                    service_pb2.ServiceState.Name(r.service.state)))
    except grpc.RpcError as e:
        # UNAVAILABLE where the agent's host has no service manager it can reach.
        print("services: %s: %s" % (e.code().name, e.details()))

    # Follow process events (reconnecting if the agent restarts) up to the
    # end of the initial snapshot; a monitor would keep looping.
    follower = c.follow_processes(name_glob="python*", include_existing=True)
    for ev in follower:
        print(process_pb2.ProcessEventType.Name(ev.type), ev.process.pid or "", ev.process.name)
        if ev.type == process_pb2.PROCESS_EVENT_TYPE_SYNCED:
            break  # leaving the loop cancels the stream
    follower.close()
    print("follow ended")
