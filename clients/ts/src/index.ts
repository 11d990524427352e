// A small typed wrapper over the generated remotectl.v1 code (src/gen, made
// by `make proto`), speaking the gRPC protocol over HTTP/2 with mutual TLS
// through @connectrpc/connect-node.
//
// Errors are ConnectError: err.code is the gRPC status (Code.InvalidArgument
// for a bad filter, Code.NotFound for an unknown service, Code.PermissionDenied
// for a caller the agent's policy does not allow, Code.Unavailable when the
// agent cannot be reached or the TLS handshake fails).
import { readFileSync } from "node:fs";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import { AgentService, type HeartbeatResponse, type WhoAmIResponse } from "./gen/remotectl/v1/agent_pb.js";
import {
  ListProcessesRequestSchema,
  ProcessService,
  WatchProcessesRequestSchema,
  ProcessSignal,
  type ListProcessesResponse,
  type Process,
  type ProcessEvent,
  type SignalProcessResponse,
} from "./gen/remotectl/v1/process_pb.js";
import {
  ListServicesRequestSchema,
  ServiceManager,
  WatchServicesRequestSchema,
  type ListServicesResponse,
  type RestartServiceResponse,
  type Service,
  type ServiceEvent,
  type StartServiceResponse,
  type StopServiceResponse,
} from "./gen/remotectl/v1/service_pb.js";
import { followProcesses, followServices, type FollowOptions } from "./follow.js";
import { LogService } from "./gen/remotectl/v1/log_pb.js";

export * from "./gen/remotectl/v1/agent_pb.js";
export * from "./gen/remotectl/v1/process_pb.js";
export * from "./gen/remotectl/v1/service_pb.js";
export * from "./gen/remotectl/v1/log_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";
export { Backoff, type FollowOptions } from "./follow.js";

// connect-node reports a failed TLS handshake (say, a client certificate the
// agent does not trust) as INTERNAL; gRPC clients in Go and Python, and the
// gRPC spec, call a connection that cannot be established UNAVAILABLE. This
// keeps the code the same in every language.
const handshakeUnavailable: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    const e = ConnectError.from(err);
    const cause = (e.cause as { code?: unknown } | undefined)?.code;
    if (e.code === Code.Internal && typeof cause === "string" && cause.startsWith("ERR_SSL_")) {
      throw new ConnectError(`TLS handshake failed: ${e.rawMessage}`, Code.Unavailable, undefined, undefined, e.cause);
    }
    throw err;
  }
};

// How long the agent waits for a state change when the request sets no timeout.
const agentDefaultWaitMs = 30_000;

export interface ClientOptions {
  /** HOST:PORT of the agent. */
  address: string;
  /** PEM files: the agent's CA, this client's certificate and key. */
  ca: string;
  cert: string;
  key: string;
  /** Name checked against the agent's certificate, when it differs from the host in address. */
  serverName?: string;
  /** Deadline of unary calls in milliseconds (default 30 s). */
  timeoutMs?: number;
}

/**
 * An open event stream (WatchProcesses, WatchServices): iterate it for
 * events; close() ends it and the loop finishes quietly. startSequence is
 * where the agent started the stream (WatchProcesses; 0 when it does not say).
 */
export class Watch<E> implements AsyncIterable<E> {
  constructor(
    private readonly it: AsyncIterator<{ event?: E }>,
    private first: Promise<IteratorResult<{ event?: E }>> | undefined,
    private readonly abort: AbortController,
    readonly startSequence: bigint = 0n,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<E> {
    try {
      for (;;) {
        const r = this.first ? await this.first : await this.it.next();
        this.first = undefined;
        if (r.done) return;
        if (r.value.event) yield r.value.event;
      }
    } catch (err) {
      if (this.abort.signal.aborted) return; // closed by us, not an error
      throw err;
    }
  }

  close(): void {
    this.abort.abort();
  }
}

/** The name of the 0.1 wrapper's process stream, kept for callers that used it. */
export type ProcessWatch = Watch<ProcessEvent>;
export type ServiceWatch = Watch<ServiceEvent>;

// Response header carrying the sequence number a WatchProcesses stream starts after.
const watchSequenceHeader = "remotectl-watch-sequence";

type StreamCall<E> = (opts: { signal: AbortSignal; timeoutMs: number; onHeader: (h: Headers) => void }) => AsyncIterable<{ event?: E }>;

/**
 * Opens a server stream and waits until the agent accepts it: the agent
 * confirms a subscription with response headers, so request errors (a bad
 * glob) reject here, before any event.
 */
async function openWatch<E>(call: StreamCall<E>, timeoutMs = 0): Promise<Watch<E>> {
  const abort = new AbortController();
  let accepted!: (h: Headers) => void;
  const headers = new Promise<Headers>((resolve) => (accepted = resolve));
  const stream = call({ signal: abort.signal, timeoutMs, onHeader: (h) => accepted(h) });
  const it = stream[Symbol.asyncIterator]();
  const first = it.next(); // sends the request and reads the response headers
  first.catch(() => {}); // rejections are handled below or by the iterator
  const h = await Promise.race([headers, first]);
  const seq = h instanceof Headers ? h.get(watchSequenceHeader) : null;
  return new Watch(it, first, abort, seq ? BigInt(seq) : 0n);
}

function duration(ms: number) {
  return ms > 0 ? { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 } : undefined;
}

export class RemotectlClient {
  readonly agent: Client<typeof AgentService>;
  readonly processes: Client<typeof ProcessService>;
  readonly services: Client<typeof ServiceManager>;
  /** LogService (readLogs, followLogs): no wrapper methods yet; call it directly. */
  readonly logs: Client<typeof LogService>;
  private readonly sessions: Http2SessionManager;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    const baseUrl = `https://${opts.address}`;
    const tls = {
      ca: readFileSync(opts.ca),
      cert: readFileSync(opts.cert),
      key: readFileSync(opts.key),
      servername: opts.serverName,
    };
    this.sessions = new Http2SessionManager(baseUrl, {}, tls);
    const transport = createGrpcTransport({
      baseUrl,
      sessionManager: this.sessions,
      nodeOptions: tls,
      interceptors: [handshakeUnavailable],
    });
    this.agent = createClient(AgentService, transport);
    this.processes = createClient(ProcessService, transport);
    this.services = createClient(ServiceManager, transport);
    this.logs = createClient(LogService, transport);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Closes the HTTP/2 connection; calls in flight fail. */
  close(): void {
    this.sessions.abort();
  }

  heartbeat(): Promise<HeartbeatResponse> {
    return this.agent.heartbeat({}, { timeoutMs: this.timeoutMs });
  }

  listProcesses(req: MessageInitShape<typeof ListProcessesRequestSchema> = {}): Promise<ListProcessesResponse> {
    return this.processes.listProcesses(create(ListProcessesRequestSchema, req), { timeoutMs: this.timeoutMs });
  }

  /** The identity the agent sees in this client's certificate, and its roles. */
  whoAmI(): Promise<WhoAmIResponse> {
    return this.agent.whoAmI({}, { timeoutMs: this.timeoutMs });
  }

  /**
   * Opens one process event stream; it ends at the first disconnect
   * (followProcesses reconnects). timeoutMs bounds the whole stream (0: none).
   */
  watchProcesses(req: MessageInitShape<typeof WatchProcessesRequestSchema> = {}, opts: { timeoutMs?: number } = {}): Promise<Watch<ProcessEvent>> {
    const r = create(WatchProcessesRequestSchema, req);
    return openWatch((o) => this.processes.watchProcesses(r, o), opts.timeoutMs);
  }

  /**
   * Process events that survive disconnects and agent restarts: after a
   * retryable end (Unavailable, ResourceExhausted, or the agent closing the
   * stream) it reconnects with backoff and resumes after the last event seen,
   * or yields RESYNC followed by a fresh snapshot (EXISTING..., SYNCED) when it
   * cannot. Ends when the loop is left or opts.signal aborts.
   */
  followProcesses(req: MessageInitShape<typeof WatchProcessesRequestSchema> = {}, opts: FollowOptions = {}): AsyncGenerator<ProcessEvent> {
    return followProcesses((r) => this.watchProcesses(r), create(WatchProcessesRequestSchema, req), opts);
  }

  listServices(req: MessageInitShape<typeof ListServicesRequestSchema> = {}): Promise<ListServicesResponse> {
    return this.services.listServices(create(ListServicesRequestSchema, req), { timeoutMs: this.timeoutMs });
  }

  async getService(name: string): Promise<Service> {
    const r = await this.services.getService({ name }, { timeoutMs: this.timeoutMs });
    return r.service!;
  }

  // The deadline of a state change covers the agent's wait plus the call itself.
  private controlDeadline(timeoutMs: number): number {
    return this.timeoutMs + (timeoutMs || agentDefaultWaitMs);
  }

  /** Starts a service and waits (up to timeoutMs; 0 = the agent's default, 30 s) until it runs. */
  startService(name: string, timeoutMs = 0): Promise<StartServiceResponse> {
    return this.services.startService({ name, timeout: duration(timeoutMs) }, { timeoutMs: this.controlDeadline(timeoutMs) });
  }

  /**
   * Signals a process by identity (its pid and start time, as listed). A pid
   * reused by another process since the listing is NOT_FOUND, never
   * signalled; a protected process is PERMISSION_DENIED naming the rule.
   * waitMs (at most 10 min) waits for the process to exit.
   */
  signalProcess(target: Pick<Process, "pid" | "startTime">, signal = ProcessSignal.TERM, waitMs = 0): Promise<SignalProcessResponse> {
    const wait = waitMs > 0 ? { seconds: BigInt(Math.floor(waitMs / 1000)), nanos: (waitMs % 1000) * 1e6 } : undefined;
    return this.processes.signalProcess({ pid: target.pid, startTime: target.startTime, signal, wait }, { timeoutMs: this.timeoutMs + waitMs });
  }

  /**
   * Stops a service and waits (up to timeoutMs; 0 = the agent's default) for
   * it to stop. stopDependents also stops the services that depend on it,
   * where the platform refuses otherwise (Windows SCM).
   */
  stopService(name: string, timeoutMs = 0, opts: { stopDependents?: boolean } = {}): Promise<StopServiceResponse> {
    return this.services.stopService({ name, timeout: duration(timeoutMs), stopDependents: opts.stopDependents ?? false }, { timeoutMs: this.controlDeadline(timeoutMs) });
  }

  /** Restarts a service (starts it when stopped) and waits until it runs again. */
  restartService(name: string, timeoutMs = 0, opts: { stopDependents?: boolean } = {}): Promise<RestartServiceResponse> {
    return this.services.restartService({ name, timeout: duration(timeoutMs), stopDependents: opts.stopDependents ?? false }, { timeoutMs: this.controlDeadline(timeoutMs) });
  }

  /** Opens one service state-change stream (see watchProcesses). */
  watchServices(req: MessageInitShape<typeof WatchServicesRequestSchema> = {}, opts: { timeoutMs?: number } = {}): Promise<Watch<ServiceEvent>> {
    const r = create(WatchServicesRequestSchema, req);
    return openWatch((o) => this.services.watchServices(r, o), opts.timeoutMs);
  }

  /**
   * Service events that survive disconnects and agent restarts. Service
   * watches cannot resume: after a reconnect the agent sends a fresh snapshot
   * (EXISTING..., SYNCED), so a caller keeping a view replaces it then.
   */
  followServices(req: MessageInitShape<typeof WatchServicesRequestSchema> = {}, opts: FollowOptions = {}): AsyncGenerator<ServiceEvent> {
    return followServices((r) => this.watchServices(r), create(WatchServicesRequestSchema, req), opts);
  }
}
