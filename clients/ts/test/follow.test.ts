// The reconnect policy of the followers, with fake streams (no agent).
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, it } from "node:test";

import { Backoff } from "../src/index.js";
import { followProcesses } from "../src/follow.js";
import { ProcessEventSchema, ProcessEventType, WatchProcessesRequestSchema, type ProcessEvent, type WatchProcessesRequest } from "../src/gen/remotectl/v1/process_pb.js";

const ev = (sequence: bigint, type: ProcessEventType) => create(ProcessEventSchema, { sequence, type });

// A fake WatchProcesses: each open takes the next script (events then an
// optional error, or an error thrown by the open itself).
function fakeWatch(scripts: Array<{ start: bigint; events: ProcessEvent[]; end?: Error } | Error>) {
  const requests: WatchProcessesRequest[] = [];
  const closed: boolean[] = [];
  const open = async (req: WatchProcessesRequest) => {
    requests.push(req);
    const s = scripts.shift()!;
    if (s instanceof Error) throw s;
    const i = closed.push(false) - 1;
    return {
      startSequence: s.start,
      close: () => void (closed[i] = true),
      async *[Symbol.asyncIterator]() {
        yield* s.events;
        if (s.end) throw s.end;
      },
    };
  };
  return { open, requests, closed };
}

describe("followers", () => {
  const waits: number[] = [];
  const backoff = new Backoff(250, 1000, async (ms) => void waits.push(ms));

  it("resume after the last event", async () => {
    waits.length = 0;
    const unavailable = new ConnectError("agent gone", Code.Unavailable);
    const f = fakeWatch([
      { start: 10n, events: [ev(11n, ProcessEventType.STARTED), ev(12n, ProcessEventType.EXITED)], end: unavailable },
      unavailable,
      { start: 12n, events: [ev(13n, ProcessEventType.STARTED)] },
    ]);
    const got: bigint[] = [];
    const causes: Array<Code | undefined> = [];
    for await (const e of followProcesses(f.open, create(WatchProcessesRequestSchema, { filter: { nameGlob: "x" } }), { backoff, onReconnect: (c) => causes.push(c?.code) })) {
      got.push(e.sequence);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, [11n, 12n, 13n]);
    assert.deepEqual(f.requests.map((r) => r.resumeAfterSequence), [0n, 12n, 12n]);
    assert.equal(f.requests[1].filter?.nameGlob, "x");
    assert.deepEqual(causes, [Code.Unavailable, Code.Unavailable]);
    assert.ok(waits.length === 2 && waits.every((w) => w > 0 && w <= 500), `${waits}`);
    assert.deepEqual(f.closed, [true, true]);
  });

  it("a cut snapshot restarts with RESYNC", async () => {
    const f = fakeWatch([
      { start: 20n, events: [ev(20n, ProcessEventType.EXISTING)], end: new ConnectError("slow", Code.ResourceExhausted) },
      { start: 25n, events: [ev(25n, ProcessEventType.EXISTING), ev(25n, ProcessEventType.SYNCED)] },
    ]);
    const got: Array<[bigint, ProcessEventType]> = [];
    for await (const e of followProcesses(f.open, create(WatchProcessesRequestSchema, { includeExisting: true }), { backoff })) {
      got.push([e.sequence, e.type]);
      if (got.length === 4) break;
    }
    assert.deepEqual(got, [[20n, ProcessEventType.EXISTING], [25n, ProcessEventType.RESYNC], [25n, ProcessEventType.EXISTING], [25n, ProcessEventType.SYNCED]]);
    assert.equal(f.requests[1].includeExisting, true);
    assert.equal(f.requests[1].resumeAfterSequence, 0n);
  });

  it("other errors end the follow", async () => {
    waits.length = 0;
    const f = fakeWatch([{ start: 1n, events: [], end: new ConnectError("no", Code.PermissionDenied) }]);
    await assert.rejects(async () => {
      for await (const _ of followProcesses(f.open, create(WatchProcessesRequestSchema, {}), { backoff })) void _;
    }, (err: unknown) => err instanceof ConnectError && err.code === Code.PermissionDenied);
    assert.deepEqual(waits, []);
  });
});
