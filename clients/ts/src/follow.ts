// Reconnecting event streams: the retry policy shared by every follower.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

import { ProcessEventSchema, ProcessEventType, type ProcessEvent, type WatchProcessesRequest } from "./gen/remotectl/v1/process_pb.js";
import type { ServiceEvent, WatchServicesRequest } from "./gen/remotectl/v1/service_pb.js";

// Stream endings worth reconnecting after: the agent went away (restart,
// network) or cut a reader that fell behind. Anything else (a bad request, a
// refused identity) would fail again the same way.
const retryable = new Set([Code.Unavailable, Code.ResourceExhausted]);

/** Delays between reconnection attempts: exponential with full jitter. */
export class Backoff {
  constructor(
    readonly initialMs = 250,
    readonly maxMs = 30_000,
    /** Waits ms, or less when signal aborts; injectable for tests. */
    readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void> = defaultSleep,
  ) {}

  *delays(): Generator<number> {
    for (let ceiling = this.initialMs; ; ceiling = Math.min(2 * ceiling, this.maxMs)) {
      yield Math.random() * ceiling || ceiling;
    }
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

export interface FollowOptions {
  backoff?: Backoff;
  /** Called before each wait with what ended the stream (undefined: the agent closed it cleanly) and the delay. */
  onReconnect?: (cause: ConnectError | undefined, delayMs: number) => void;
  /** Ends the follow: the open stream is closed and the loop finishes quietly. */
  signal?: AbortSignal;
}

interface Stream<E> extends AsyncIterable<E> {
  close(): void;
}

/**
 * Yields the events of a stream, reopening it when it ends retryably. Errors
 * of the first open are thrown as they are. Leaving the loop closes the stream.
 */
export async function* follow<E>(open: (reconnecting: boolean) => Promise<Stream<E>>, opts: FollowOptions = {}): AsyncGenerator<E> {
  const backoff = opts.backoff ?? new Backoff();
  let stream = await open(false);
  const onAbort = () => stream.close();
  opts.signal?.addEventListener("abort", onAbort);
  try {
    for (;;) {
      let cause: ConnectError | undefined;
      try {
        for await (const ev of stream) yield ev;
      } catch (err) {
        cause = ConnectError.from(err);
        if (!retryable.has(cause.code)) throw err;
      }
      stream.close();
      for (const delay of backoff.delays()) {
        if (opts.signal?.aborted) return;
        opts.onReconnect?.(cause, delay);
        await backoff.sleep(delay, opts.signal);
        if (opts.signal?.aborted) return;
        try {
          stream = await open(true);
          break;
        } catch (err) {
          cause = ConnectError.from(err);
          if (!retryable.has(cause.code)) throw err;
        }
      }
    }
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    stream.close();
  }
}

type Opener<R, E> = (req: R) => Promise<Stream<E> & { readonly startSequence: bigint }>;

/**
 * Follows WatchProcesses, resuming after the last event seen; a reconnect
 * that cannot resume (no position yet, or a snapshot cut short) starts a
 * fresh snapshot and yields RESYNC first, as the agent marks its own.
 */
export async function* followProcesses(watch: Opener<WatchProcessesRequest, ProcessEvent>, req: WatchProcessesRequest, opts: FollowOptions): AsyncGenerator<ProcessEvent> {
  let last = 0n;
  let inSnapshot = req.includeExisting && req.resumeAfterSequence === 0n;
  const open = async (reconnecting: boolean): Promise<Stream<ProcessEvent>> => {
    const resync = reconnecting && (inSnapshot || last === 0n);
    const w = await watch({
      ...req,
      includeExisting: req.includeExisting || resync,
      resumeAfterSequence: reconnecting && !resync ? last : req.resumeAfterSequence,
    });
    if (!reconnecting) last = w.startSequence;
    if (!resync) return w;
    const marker = create(ProcessEventSchema, { sequence: w.startSequence, type: ProcessEventType.RESYNC });
    return {
      close: () => w.close(),
      async *[Symbol.asyncIterator]() {
        yield marker;
        yield* w;
      },
    };
  };
  for await (const ev of follow(open, opts)) {
    switch (ev.type) {
      case ProcessEventType.RESYNC:
      case ProcessEventType.EXISTING:
        inSnapshot = true;
        break;
      case ProcessEventType.SYNCED:
      case ProcessEventType.STARTED:
      case ProcessEventType.EXITED:
        inSnapshot = false;
        last = ev.sequence;
    }
    yield ev;
  }
}

/** Follows WatchServices; every reconnect asks for a fresh snapshot (service watches cannot resume). */
export function followServices(watch: Opener<WatchServicesRequest, ServiceEvent>, req: WatchServicesRequest, opts: FollowOptions): AsyncGenerator<ServiceEvent> {
  return follow((reconnecting) => watch({ ...req, includeExisting: req.includeExisting || reconnecting }), opts);
}
