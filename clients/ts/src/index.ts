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

import { AgentService, type HeartbeatResponse } from "./gen/remotectl/v1/agent_pb.js";
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
import { ServiceManager, type StopServiceResponse } from "./gen/remotectl/v1/service_pb.js";

export * from "./gen/remotectl/v1/agent_pb.js";
export * from "./gen/remotectl/v1/process_pb.js";
export * from "./gen/remotectl/v1/service_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";

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

/** An open WatchProcesses stream: iterate it for events; close() ends it. */
export class ProcessWatch implements AsyncIterable<ProcessEvent> {
  constructor(
    private readonly it: AsyncIterator<{ event?: ProcessEvent }>,
    private first: Promise<IteratorResult<{ event?: ProcessEvent }>> | undefined,
    private readonly abort: AbortController,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<ProcessEvent> {
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

export class RemotectlClient {
  readonly agent: Client<typeof AgentService>;
  readonly processes: Client<typeof ProcessService>;
  readonly services: Client<typeof ServiceManager>;
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

  /**
   * Opens a process event stream. Request errors (a bad glob) reject here,
   * before any event: the agent confirms a subscription with response headers,
   * so waiting for them tells a refused stream from an accepted one.
   */
  async watchProcesses(req: MessageInitShape<typeof WatchProcessesRequestSchema> = {}, opts: { timeoutMs?: number } = {}): Promise<ProcessWatch> {
    const abort = new AbortController();
    let accepted!: () => void;
    const headers = new Promise<void>((resolve) => (accepted = resolve));
    const stream = this.processes.watchProcesses(create(WatchProcessesRequestSchema, req), {
      signal: abort.signal,
      timeoutMs: opts.timeoutMs ?? 0, // 0: no deadline, the stream runs until close()
      onHeader: () => accepted(),
    });
    const it = stream[Symbol.asyncIterator]();
    const first = it.next(); // sends the request and reads the response headers
    first.catch(() => {}); // rejections are handled below or by the iterator
    await Promise.race([headers, first]);
    return new ProcessWatch(it, first, abort);
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
    const timeout = timeoutMs > 0 ? { seconds: BigInt(Math.floor(timeoutMs / 1000)), nanos: (timeoutMs % 1000) * 1e6 } : undefined;
    // The deadline covers the agent's wait for the stop plus the call itself.
    return this.services.stopService({ name, timeout, stopDependents: opts.stopDependents ?? false }, { timeoutMs: this.timeoutMs + (timeoutMs || agentDefaultWaitMs) });
  }
}
