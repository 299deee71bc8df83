/**
 * Free loopback ports. The OS picks each one; a process-wide set makes sure one process never
 * hands out the same port twice, so environments started side by side do not collide.
 * @module
 */
import { createServer } from "node:net";

const handedOut = new Set<number>();

function askOs(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One free TCP port on `host` (default 127.0.0.1) not handed out before by this process. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await askOs(host);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port found on ${host} after 50 attempts; expected the OS to offer an unused port`);
}

/** `count` distinct free ports on `host`. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort(host));
  return ports;
}
