// Tests of the TypeScript client against a real ctld on loopback.
//
// scripts/test-clients.sh starts ctld with a fresh dev PKI and sets
// REMOTECTL_ADDR, REMOTECTL_CA, REMOTECTL_CERT, REMOTECTL_KEY (the dev admin
// client), REMOTECTL_UNBOUND_CERT, REMOTECTL_UNBOUND_KEY (a client certificate
// from the agent's CA that no authorization binding matches) and
// REMOTECTL_ROGUE_CERT, REMOTECTL_ROGUE_KEY (a client certificate from a CA the
// agent does not trust). Run: npm test
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import {
  Code,
  ConnectError,
  ProcessEventType,
  ProcessSignal,
  ProcessSort,
  RemotectlClient,
  type ProcessEvent,
} from "../src/index.js";

const env = ["REMOTECTL_ADDR", "REMOTECTL_CA", "REMOTECTL_CERT", "REMOTECTL_KEY"] as const;
const missing = env.filter((k) => !process.env[k]);
const skip = missing.length > 0 ? `no agent under test (${missing.join(", ")} unset): run scripts/test-clients.sh` : false;

function connect(cert = process.env.REMOTECTL_CERT!, key = process.env.REMOTECTL_KEY!): RemotectlClient {
  return new RemotectlClient({
    address: process.env.REMOTECTL_ADDR!,
    ca: process.env.REMOTECTL_CA!,
    cert,
    key,
    timeoutMs: 15_000,
  });
}

// rejectsWith asserts that p rejects with a ConnectError carrying code.
async function rejectsWith(p: Promise<unknown>, code: Code): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConnectError, `not a ConnectError: ${err}`);
    assert.equal(err.code, code, `code ${Code[err.code]} (${err.message}), want ${Code[code]}`);
    return true;
  });
}

describe("remotectl TypeScript client", { skip }, () => {
  let client: RemotectlClient;
  const dirs: string[] = [];
  const children: ChildProcess[] = [];

  // namedSleep copies sleep(1) under a unique short name (comm keeps 15 bytes).
  function namedSleep(): { name: string; path: string } {
    const name = "rctlts-" + randomBytes(3).toString("hex");
    const dir = mkdtempSync(join(tmpdir(), "rctlts-"));
    dirs.push(dir);
    const path = join(dir, name);
    copyFileSync("/bin/sleep", path);
    return { name, path };
  }

  function start(path: string, ...args: string[]): ChildProcess {
    const child = spawn(path, args, { stdio: "ignore" });
    children.push(child);
    return child;
  }

  before(() => {
    client = connect();
  });
  after(() => {
    client.close();
    for (const c of children) c.kill();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("heartbeat", async () => {
    const hb = await client.heartbeat();
    assert.equal(hb.hostname, hostname());
    assert.ok(hb.processCount > 0);
  });

  it("lists processes by name, and with a limit", async () => {
    const { name, path } = namedSleep();
    const child = start(path, "30");
    await new Promise((resolve) => child.once("spawn", resolve));
    const resp = await client.listProcesses({ filter: { nameGlob: name } });
    assert.deepEqual(resp.processes.map((p) => p.pid), [child.pid]);
    assert.equal(resp.processes[0].name, name);
    assert.deepEqual(resp.processes[0].args, [path, "30"]);
    assert.equal(resp.processes[0].ppid, process.pid);

    const limited = await client.listProcesses({ limit: 3, sort: ProcessSort.PID });
    assert.equal(limited.processes.length, 3);
    assert.ok(limited.totalMatched >= 3);
    const pids = limited.processes.map((p) => p.pid);
    assert.deepEqual(pids, [...pids].sort((a, b) => a - b));
  });

  it("watch sees a spawned process start and exit", async () => {
    const { name, path } = namedSleep();
    const watch = await client.watchProcesses({ filter: { nameGlob: name }, includeExisting: true }, { timeoutMs: 30_000 });
    const events = watch[Symbol.asyncIterator]();
    const next = async (): Promise<ProcessEvent> => {
      const r = await events.next();
      assert.ok(!r.done, "watch ended early");
      return r.value;
    };
    try {
      const synced = await next();
      assert.equal(synced.type, ProcessEventType.SYNCED); // nothing existed yet
      const child = start(path, "1");
      const exitedPromise = new Promise((resolve) => child.once("exit", resolve)); // node reaps it
      const started = await next();
      assert.equal(started.type, ProcessEventType.STARTED);
      assert.equal(started.process?.pid, child.pid);
      assert.equal(started.process?.name, name);
      await exitedPromise;
      const exited = await next();
      assert.equal(exited.type, ProcessEventType.EXITED);
      assert.equal(exited.process?.pid, child.pid);
      assert.deepEqual(exited.process?.startTime, started.process?.startTime);
      // Host-wide numbers (ProcessEvent.sequence): SYNCED carries the last
      // event its snapshot reflects; later events on the stream are strictly
      // greater, with gaps for other processes' events.
      assert.ok(synced.sequence < started.sequence, `SYNCED ${synced.sequence} < STARTED ${started.sequence}`);
      assert.ok(started.sequence < exited.sequence, `STARTED ${started.sequence} < EXITED ${exited.sequence}`);
    } finally {
      watch.close();
    }
    // close() ends the iteration quietly.
    assert.equal((await events.next()).done, true);
  });

  it("signals a process by identity; a stale identity is NOT_FOUND and reaches nothing", async () => {
    const { name, path } = namedSleep();
    const child = start(path, "30");
    await new Promise((resolve) => child.once("spawn", resolve));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, sig) => resolve(sig)));
    const [proc] = (await client.listProcesses({ filter: { nameGlob: name } })).processes;
    const stale = { pid: proc.pid, startTime: { ...proc.startTime!, seconds: proc.startTime!.seconds - 5n } };
    await rejectsWith(client.signalProcess(stale as typeof proc, ProcessSignal.KILL), Code.NotFound);
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, null);
    const resp = await client.signalProcess(proc, ProcessSignal.TERM, 10_000);
    assert.equal(await exited, "SIGTERM");
    assert.equal(resp.exited, true);
    assert.equal(resp.process?.name, name);
  });

  it("a bad glob is INVALID_ARGUMENT, for list and (synchronously) for watch", async () => {
    await rejectsWith(client.listProcesses({ filter: { nameGlob: "[oops" } }), Code.InvalidArgument);
    await rejectsWith(client.watchProcesses({ filter: { nameGlob: "[oops" } }), Code.InvalidArgument);
  });

  it("stopping an unknown service is NOT_FOUND (UNAVAILABLE without a service manager)", async () => {
    const services = (await client.heartbeat()).backends.find((b) => b.capability === "services");
    assert.ok(services, "heartbeat lists no services backend");
    const want = services.available ? Code.NotFound : Code.Unavailable;
    await rejectsWith(client.stopService(`remotectl-no-such-unit-${randomBytes(3).toString("hex")}.service`, 5000), want);
  });

  it("stopping a protected service is PERMISSION_DENIED", async () => {
    // The agent's policy refuses before the service manager is asked, so this
    // never touches the host's ssh service.
    await assert.rejects(client.stopService("ssh.service", 5000), (err: unknown) => {
      assert.ok(err instanceof ConnectError && err.code === Code.PermissionDenied, `${err}`);
      assert.match(err.rawMessage, /protected/);
      return true;
    });
  });

  it("an identity no binding matches is PERMISSION_DENIED", { skip: !process.env.REMOTECTL_UNBOUND_CERT }, async () => {
    // A certificate from the agent's CA: authenticated, but without
    // permissions beyond agent.read.
    const unbound = connect(process.env.REMOTECTL_UNBOUND_CERT!, process.env.REMOTECTL_UNBOUND_KEY!);
    try {
      // Alive and its clock, nothing about the host (docs/security.md).
      const beat = await unbound.heartbeat();
      assert.ok(beat.serverTime);
      assert.equal(beat.hostname, "");
      await rejectsWith(unbound.listProcesses({ limit: 1 }), Code.PermissionDenied);
    } finally {
      unbound.close();
    }
  });

  it("a client certificate from an untrusted CA is refused with UNAVAILABLE", { skip: !process.env.REMOTECTL_ROGUE_CERT }, async () => {
    const rogue = connect(process.env.REMOTECTL_ROGUE_CERT!, process.env.REMOTECTL_ROGUE_KEY!);
    try {
      // The agent rejects the handshake, so the call never reaches it.
      await rejectsWith(rogue.heartbeat(), Code.Unavailable);
    } finally {
      rogue.close();
    }
  });
});
