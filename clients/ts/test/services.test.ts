// Service control, service watches, whoAmI and followProcesses against a real
// ctld. The service tests need a reachable service manager:
// scripts/test-clients.sh runs ctld inside the systemd harness when it can and
// names a unit private to these tests in REMOTECTL_TS_UNIT.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";

import { Code, ConnectError, ProcessEventType, RemotectlClient, ServiceEventType, ServiceState } from "../src/index.js";

const env = ["REMOTECTL_ADDR", "REMOTECTL_CA", "REMOTECTL_CERT", "REMOTECTL_KEY"] as const;
const skip = env.some((k) => !process.env[k]) ? "no agent under test: run scripts/test-clients.sh" : false;
const unit = process.env.REMOTECTL_TS_UNIT ?? "";

describe("remotectl TypeScript client: whole API", { skip }, () => {
  let c: RemotectlClient;
  before(() => {
    c = new RemotectlClient({ address: process.env.REMOTECTL_ADDR!, ca: process.env.REMOTECTL_CA!, cert: process.env.REMOTECTL_CERT!, key: process.env.REMOTECTL_KEY!, timeoutMs: 15_000 });
  });
  after(() => c.close());

  it("whoAmI", async () => {
    assert.equal((await c.whoAmI()).commonName, "remotectl-admin");
  });

  it("the logs client reaches the agent (no wrapper yet)", async () => {
    // A request without a source is refused by the agent itself, not Unimplemented.
    await assert.rejects(c.logs.readLogs({}, { timeoutMs: 15_000 }), (err: unknown) =>
      err instanceof ConnectError && (err.code === Code.InvalidArgument || err.code === Code.PermissionDenied));
  });

  it("followProcesses sees a process start", async () => {
    const child = spawn("/bin/sleep", ["30"], { stdio: "ignore" });
    try {
      const stop = new AbortController();
      let started = false;
      for await (const ev of c.followProcesses({ filter: { pids: [child.pid!] }, includeExisting: true }, { signal: stop.signal })) {
        if (ev.type === ProcessEventType.EXISTING || ev.type === ProcessEventType.STARTED) {
          assert.equal(ev.process?.pid, child.pid);
          started = true;
          stop.abort(); // ends the loop quietly
        }
      }
      assert.ok(started);
    } finally {
      child.kill();
    }
  });

  it("services: list, get, stop, restart, watch", { skip: unit ? false : "REMOTECTL_TS_UNIT unset (no systemd harness)" }, async () => {
    await c.startService(unit, 20_000);
    const { services } = await c.listServices({ nameGlob: unit });
    assert.deepEqual(services.map((s) => s.name), [unit]);
    assert.equal((await c.getService(unit)).state, ServiceState.RUNNING);

    const watch = await c.watchServices({ nameGlob: unit, includeExisting: true }, { timeoutMs: 60_000 });
    const events = watch[Symbol.asyncIterator]();
    const existing = (await events.next()).value;
    assert.equal(existing.type, ServiceEventType.EXISTING);
    assert.equal((await events.next()).value.type, ServiceEventType.SYNCED);

    const stopped = await c.stopService(unit, 20_000);
    assert.equal(stopped.changed, true);
    assert.equal(stopped.service?.state, ServiceState.STOPPED);
    for (;;) {
      const ev = (await events.next()).value;
      assert.equal(ev.type, ServiceEventType.CHANGED);
      if (ev.newState === ServiceState.STOPPED) break;
    }
    watch.close();

    const restarted = await c.restartService(unit, 20_000);
    assert.equal(restarted.service?.state, ServiceState.RUNNING);
    await assert.rejects(c.getService("remotectl-no-such-unit.service"), (err: unknown) => err instanceof ConnectError && err.code === Code.NotFound);
  });
});
