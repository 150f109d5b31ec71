/**
 * The thinnest TLS terminator over a CertificateSource (what the interception engine does, minus
 * everything else): an HTTPS server on 127.0.0.1, port 0, whose SNICallback asks the source for the
 * host's context and answers every request with `hello <host>`. Tests point real clients at it.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CertificateSource } from '../../../agent/ca/certificate-source.js';

export interface Terminator {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the terminator. */
export async function startTerminator(source: CertificateSource): Promise<Terminator> {
  const server = https.createServer(
    {
      SNICallback: (servername, cb) => {
        try {
          const ctx = source.secureContext(servername);
          if (ctx instanceof Promise) ctx.then((c) => cb(null, c), (err: Error) => cb(err));
          else cb(null, ctx);
        } catch (err) {
          cb(err as Error);
        }
      },
    },
    (req, res) => {
      res.setHeader('connection', 'close');
      res.end(`hello ${req.headers.host ?? ''}`);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
