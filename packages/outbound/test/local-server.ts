// A real HTTP server on 127.0.0.1 that records what reached it.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  origin: string;
  port: number;
  /** TCP connections accepted, whether or not a request followed. */
  connections: () => number;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close: () => Promise<void>;
}

/** Starts a server bound to 127.0.0.1 only, on a free port. */
export async function startLocalServer(handler: RequestListener): Promise<LocalServer> {
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  const requests: LocalServer['requests'] = [];

  return listen(server, requests);
}

export async function listen(
  server: Server,
  requests: LocalServer['requests'],
): Promise<LocalServer> {
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
