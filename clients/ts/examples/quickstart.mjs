// The documented example of @remotectl/client (docs/clients/typescript.md).
// In a project that installed the package:
//   REMOTECTL_ADDR=web-7:7443 REMOTECTL_CERTS=/var/lib/ctld/certs node quickstart.mjs
// REMOTECTL_CERTS holds ca.crt, client.crt and client.key (ctld's dev PKI, or
// what `ctl certs client` wrote). REMOTECTL_UNIT, if set, names a service to
// restart (default: none is touched).
import { Code, ConnectError, ProcessEventType, ProcessSort, RemotectlClient, ServiceState } from "@remotectl/client";

const dir = (process.env.REMOTECTL_CERTS ?? "/var/lib/ctld/certs") + "/";
const c = new RemotectlClient({
  address: process.env.REMOTECTL_ADDR ?? "localhost:7443",
  ca: dir + "ca.crt",
  cert: dir + "client.crt",
  key: dir + "client.key",
});
try {
  const hb = await c.heartbeat();
  console.log(`host ${hb.hostname} (${hb.os}), agent ${hb.agentVersion}, ${hb.processCount} processes`);
  const me = await c.whoAmI();
  console.log(`I am ${me.commonName}, roles ${me.roles.join(",")}`);

  const top = await c.listProcesses({ sort: ProcessSort.MEMORY, limit: 3 });
  for (const p of top.processes) console.log(`pid ${p.pid} ${p.name} rss ${p.residentMemoryBytes}`);

  try {
    const { services } = await c.listServices({ states: [ServiceState.FAILED] });
    console.log(`${services.length} failed services`);
    const unit = process.env.REMOTECTL_UNIT;
    if (unit) {
      const r = await c.restartService(unit, 30_000);
      console.log(`${unit}: ${ServiceState[r.previousState]} -> ${ServiceState[r.service?.state ?? 0]}`);
    }
  } catch (err) {
    // Unavailable where the agent's host has no service manager it can reach.
    if (!(err instanceof ConnectError)) throw err;
    console.log(`services: ${Code[err.code]}: ${err.rawMessage}`);
  }

  // Follow process events (reconnecting if the agent restarts) for 2 s.
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 2000);
  for await (const ev of c.followProcesses({ includeExisting: true, filter: { nameGlob: "node*" } }, { signal: stop.signal })) {
    console.log(`${ProcessEventType[ev.type]} ${ev.process?.pid ?? ""} ${ev.process?.name ?? ""}`.trim());
  }
  console.log("follow ended");
} finally {
  c.close();
}
