// A real HTTP server on 127.0.0.1 for the job and callback tests: it records every request (method, URL,
// headers, raw body) and answers as the test's handler says.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Received, res: http.ServerResponse) => void;

export interface Receiver {
  port: number;
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  requests: Received[];
  /** Requests whose path (without the query) is `path`. */
  to(path: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(handler: Handler, host = '127.0.0.1'): Promise<Receiver> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://${host}:${port}${path}`,
    requests,
    to: (path) => requests.filter((r) => r.url.split('?')[0] === path),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
