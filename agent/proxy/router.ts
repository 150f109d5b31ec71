/**
 * Where a connection goes, decided by the host the client really talks to (issue 20), with no
 * local trick that turns governance off (issue 10.2):
 *
 * - a CONNECT to a name the policy intercepts is answered 200, its ClientHello read (cheap: one
 *   record, replayed into the TLS socket), then intercepted, unless the client pins (tunnelled or
 *   refused for that client alone, per policy) or its server name disagrees with the CONNECT name;
 * - a CONNECT to an IP literal is answered 200 and decided by its ClientHello's server name (no
 *   name: the policy's `noServerName`);
 * - a CONNECT to any other name is a tunnel whose first client record is looked at as it passes
 *   (same turn, no extra copy): a server name the policy governs turns it into an interception or a
 *   refusal (domain fronting);
 * - a blocked name is refused before anything else.
 *
 * Every bypass attempt is counted ({@link BypassLog}) and audited (`Gate.connect`).
 */
import net from 'node:net';
import type { CertificateSource } from '../ca/certificate-source.js';
import type { BypassAttempt, ConnectEvent, Gate, HostAction } from '../pipeline/seam.js';
import type { FrontDoor } from '../../shared/schema/audit.js';
import type { OriginalDestination } from '../system/original-dst.js';
import { isLocalHost, parseAuthority, type Authority } from './authority.js';
import type { AiAddressBook } from './ai-addresses.js';
import type { BypassLog } from './bypass-log.js';
import type { ClientHello, HelloResult } from './client-hello.js';
import type { ExchangeTarget } from './exchange-types.js';
import type { ProcessOwners } from '../system/process-owner/process-owners.js';
import type { HandshakePacer } from './handshake-pacer.js';
import { readClientHello } from './hello-reader.js';
import { intercept, prefetchLeaf, type InnerServers, type InterceptHooks } from './intercept.js';
import { TARGET, type InterceptedSocket } from './intercepted-socket.js';
import { plainAnswer } from './listeners.js';
import { judgeNames } from './names.js';
import { describeClient, type ClientIdentity, type PinningTracker } from './pinning.js';
import type { TransparentArrival } from './transparent.js';
import { tunnel } from './tunnel.js';
import type { Dialer } from './upstream-dial.js';

const CONNECT_OK = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/** The engine's counters the router moves. */
export interface RouteCounters {
  intercepted: number;
  tunnelled: number;
  blocked: number;
}

/** What the router needs from the engine. */
export interface RouterDeps {
  readonly gate: Gate;
  /** The gate's classification, guarded (a gate that throws is decided by the fail mode). */
  readonly classify: (host: string) => HostAction;
  /** Records a CONNECT event, guarded. */
  readonly record: (event: ConnectEvent) => void;
  readonly certificates: CertificateSource;
  readonly inner: InnerServers;
  readonly pacer: HandshakePacer | null;
  readonly dialer: Dialer;
  readonly pinning: PinningTracker;
  readonly bypass: BypassLog;
  readonly counters: RouteCounters;
  /** Addresses of the policy's governed hosts, for the transparent door (null when it is off). */
  readonly aiAddresses: AiAddressBook | null;
  readonly onError: (error: Error, where: string) => void;
  /** Finds which process opened a connection (Linux); null where the OS does not tell. */
  readonly owners: ProcessOwners | null;
}

/** Where the client asked to go: the CONNECT authority, or the transparent door's server name. */
interface Asked extends Authority {
  /** An IP literal: the ClientHello decides. */
  readonly literal: boolean;
  /** False for the transparent door (the client speaks TLS at once; a refusal is a close). */
  readonly viaConnect: boolean;
  readonly app: string | null;
  readonly door: FrontDoor;
}

type Hello = Exclude<HelloResult, { kind: 'partial' }>;

/** Routes accepted connections; one per engine. */
export class ConnectionRouter {
  constructor(private readonly d: RouterDeps) {}

  /** A CONNECT whose authority was parsed (and is not the agent itself). */
  connect(socket: net.Socket, head: Buffer, authority: Authority, app: string | null): void {
    const asked: Asked = { ...authority, literal: net.isIP(authority.host) !== 0, viaConnect: true, app, door: 'proxy' };
    if (asked.literal) {
      // Dialled first like any tunnel (an unreachable address is answered 502), then decided by
      // the client's ClientHello; the dial is dropped when the connection is intercepted.
      this.d.counters.tunnelled++;
      tunnel(socket, head, asked.host, asked.port, this.d.dialer, false, (result, bytes, spoke) => this.literal(socket, bytes, result, asked, spoke));
      return;
    }
    const action = this.d.classify(asked.host);
    switch (action) {
      case 'block':
        this.block(socket, asked.host, asked, `${asked.host} is not an approved AI service in your organisation's policy`);
        return;
      case 'tunnel':
        this.d.counters.tunnelled++;
        tunnel(socket, head, asked.host, asked.port, this.d.dialer, false, (result, bytes, spoke) => this.fronted(socket, bytes, result, asked, spoke));
        return;
      case 'intercept': {
        // A host the policy governs is never tunnelled because the CA cannot sign for it, under
        // either fail mode (fail open keeps traffic flowing when a check breaks on a request the
        // agent can see; this one it could not see at all): refused with the reason, and audited.
        const uncertified = this.d.certificates.cannotIssue(asked.host);
        if (uncertified !== null) {
          this.refuseUncertified(socket, asked.host, asked, true, uncertified);
          return;
        }
        socket.write(CONNECT_OK);
        prefetchLeaf(asked.host, this.d.certificates, this.d.pacer);
        readClientHello(socket, head, (result, bytes) => this.named(socket, bytes, result, asked));
        return;
      }
      default: {
        const never: never = action;
        throw new Error(`unknown host action ${String(never)}`);
      }
    }
  }

  /**
   * The transparent door (issue 15). The name comes from the ClientHello (or a plain request's
   * Host header); `original` is where the kernel says the connection was going (SO_ORIGINAL_DST;
   * null when it was not redirected, e.g. a client dialling the listener itself). A tunnel goes to
   * the original destination, never to wherever the name points; a name the policy governs is
   * intercepted and governed as that name, a blocked one refused; a connection with no usable name
   * is an address alone, decided like an IP-literal CONNECT without SNI (policy `noServerName`).
   */
  transparent(socket: net.Socket, bytes: Buffer, arrival: TransparentArrival, original: OriginalDestination | null): void {
    if (arrival.kind === 'http') {
      this.plain(socket, bytes, arrival.host, original);
      return;
    }
    const port = original?.port ?? 443;
    const name = arrival.kind === 'tls' ? hostName(arrival.hello.servername) : null;
    if (name === null) {
      this.addressOnly(socket, bytes, original, arrival.kind === 'tls' ? 'named no server (no SNI)' : `sent TLS the agent cannot read (${arrival.reason})`, false);
      return;
    }
    if (isLocalHost(name)) {
      socket.destroy();
      return;
    }
    const asked: Asked = { host: name, port, literal: false, viaConnect: false, app: null, door: 'transparent' };
    const action = this.d.classify(name);
    if (action === 'block') {
      this.block(socket, name, asked, `${name} is not an approved AI service in your organisation's policy`);
      return;
    }
    if (arrival.kind !== 'tls') return;
    if (action === 'intercept') {
      // The address this client resolved for a governed name: a harmless name sent there later is fronting.
      if (original !== null) this.d.aiAddresses?.learn(original.address, name);
      this.govern(socket, bytes, arrival.hello, name, asked);
      return;
    }
    const owner = original === null ? null : (this.d.aiAddresses?.hostAt(original.address) ?? null);
    if (owner !== null && owner !== name && original !== null) {
      // A harmless server name sent to a governed host's address: the policy's nameMismatch decides.
      const verdict = judgeNames({ host: owner, action: this.d.classify(owner) }, { host: name, action }, this.d.gate.bypassPolicy.nameMismatch);
      if (verdict.action !== 'tunnel') {
        const detail = `TLS for ${name} was sent to ${authorityText({ host: original.address, port })}, an address of ${owner}`;
        if (verdict.action === 'block') {
          this.attempt({ kind: 'sni-mismatch', action: 'blocked' }, verdict.host, asked, `${detail}: refused (policy nameMismatch: ${this.d.gate.bypassPolicy.nameMismatch})`);
          this.block(socket, verdict.host, asked, null);
        } else {
          this.attempt({ kind: 'sni-mismatch', action: 'intercepted' }, verdict.host, asked, `${detail}: governed as ${verdict.host}`);
          this.govern(socket, bytes, arrival.hello, verdict.host, asked);
        }
        return;
      }
    }
    this.d.counters.tunnelled++;
    tunnel(socket, bytes, original?.address ?? name, port, this.d.dialer, true);
  }

  /**
   * Plain HTTP at the transparent door, named by its first request's Host header: governed by the
   * inner HTTP server like an intercepted TLS connection (the same exchange path), tunnelled byte
   * for byte to its original destination, or answered 403 (a plain client can read an answer).
   */
  private plain(socket: net.Socket, bytes: Buffer, header: string | null, original: OriginalDestination | null): void {
    const port = original?.port ?? 80;
    let name: string | null = null;
    try {
      if (header !== null) name = parseAuthority(header, port).host;
    } catch {
      name = null;
    }
    if (name === null) {
      this.addressOnly(socket, bytes, original, header === null ? 'sent an HTTP request without Host' : `sent an HTTP request with Host ${JSON.stringify(header.slice(0, 100))}`, true);
      return;
    }
    if (isLocalHost(name) && original === null) {
      socket.destroy();
      return;
    }
    const asked: Asked = { host: name, port, literal: false, viaConnect: true, app: null, door: 'transparent' };
    const action = this.d.classify(name);
    if (action === 'block') {
      this.block(socket, name, asked, `${name} is not an approved AI service in your organisation's policy`);
      return;
    }
    if (action === 'tunnel') {
      this.d.counters.tunnelled++;
      tunnel(socket, bytes, original?.address ?? name, port, this.d.dialer, true);
      return;
    }
    this.d.counters.intercepted++;
    // The inner server reads the target from the socket, as for intercepted TLS.
    (socket as unknown as InterceptedSocket)[TARGET] = { host: name, port, secure: false, govern: true, door: 'transparent' };
    socket.unshift(bytes);
    this.d.inner.http1.emit('connection', socket);
    socket.resume();
  }

  /** A transparent connection with nothing to name it: its original address, by policy `noServerName`; dropped when there is none. */
  private addressOnly(socket: net.Socket, bytes: Buffer, original: OriginalDestination | null, what: string, plain: boolean): void {
    if (original === null) {
      this.d.onError(new Error(`a transparent connection ${what} and its original destination is unknown`), 'transparent');
      socket.destroy();
      return;
    }
    const asked: Asked = { host: original.address, port: original.port, literal: true, viaConnect: plain, app: null, door: 'transparent' };
    this.d.counters.tunnelled++;
    if (this.unnamed(socket, asked, what)) tunnel(socket, bytes, original.address, original.port, this.d.dialer, true);
  }

  /**
   * A CONNECT to an IP literal (a tunnel inspector): the server name in its ClientHello decides.
   * True lets the tunnel to the address go on.
   */
  private literal(socket: net.Socket, bytes: Buffer, result: Hello, asked: Asked, upstreamSpoke: boolean): boolean {
    const name = result.kind === 'hello' ? hostName(result.servername) : null;
    if (name === null) return this.unnamed(socket, asked, result.kind === 'invalid' ? 'sent no TLS ClientHello first' : 'named no server (no SNI)');
    const action = this.d.classify(name);
    // A harmless name behind an address: nothing to govern, nothing to report.
    if (action === 'tunnel') return true;
    this.d.counters.tunnelled--;
    const detail = `the client asked for the address ${authorityText(asked)} and its TLS named ${name}`;
    if (action === 'block' || upstreamSpoke) {
      this.attempt({ kind: 'ip-literal', action: 'blocked' }, name, asked, `${detail}: refused (${action === 'block' ? 'the policy blocks it' : 'the server had already spoken: too late to intercept'})`);
      this.block(socket, name, asked, null);
      return false;
    }
    this.attempt({ kind: 'ip-literal', action: 'intercepted' }, name, asked, `${detail}: intercepted and governed as ${name}`);
    this.govern(socket, bytes, result as ClientHello, name, asked);
    return false;
  }

  /** A CONNECT to a name the policy intercepts, once its ClientHello is in. */
  private named(socket: net.Socket, bytes: Buffer, result: Hello, asked: Asked): void {
    if (result.kind === 'invalid') {
      // Never counted towards pinning: only a real ClientHello can say the client rejects our CA.
      this.attempt({ kind: 'not-tls', action: 'blocked' }, asked.host, asked, `the client sent bytes that are not a TLS ClientHello (${result.reason}) to ${authorityText(asked)}`);
      this.block(socket, asked.host, asked, null);
      return;
    }
    const name = hostName(result.servername);
    if (name === null || name === asked.host) {
      this.govern(socket, bytes, result, asked.host, asked);
      return;
    }
    const verdict = judgeNames({ host: asked.host, action: 'intercept' }, { host: name, action: this.d.classify(name) }, this.d.gate.bypassPolicy.nameMismatch);
    const detail = `CONNECT ${authorityText(asked)} carried TLS for ${name}`;
    if (verdict.action === 'block') {
      this.attempt({ kind: 'sni-mismatch', action: 'blocked' }, verdict.host, asked, `${detail}: refused (policy nameMismatch: ${this.d.gate.bypassPolicy.nameMismatch})`);
      this.block(socket, verdict.host, asked, null);
      return;
    }
    this.attempt({ kind: 'sni-mismatch', action: 'intercepted' }, verdict.host, asked, `${detail}: governed as ${verdict.host}`);
    this.govern(socket, bytes, result, verdict.host, asked);
  }

  /**
   * A tunnel's first client record (a CONNECT to a name the policy does not govern). True lets the
   * tunnel go on; a server name the policy governs takes the connection over.
   */
  private fronted(socket: net.Socket, bytes: Buffer, result: Hello, asked: Asked, upstreamSpoke: boolean): boolean {
    if (result.kind !== 'hello') return true;
    const name = hostName(result.servername);
    if (name === null || name === asked.host) return true;
    const verdict = judgeNames({ host: asked.host, action: 'tunnel' }, { host: name, action: this.d.classify(name) }, this.d.gate.bypassPolicy.nameMismatch);
    if (verdict.action === 'tunnel') return true;
    this.d.counters.tunnelled--;
    const detail = `CONNECT ${authorityText(asked)} carried TLS for ${name}`;
    if (verdict.action === 'block' || upstreamSpoke) {
      this.attempt({ kind: 'sni-mismatch', action: 'blocked' }, verdict.host, asked, `${detail}: refused${upstreamSpoke ? ' (the server had already spoken: too late to intercept)' : ''}`);
      this.block(socket, verdict.host, asked, null);
      return false;
    }
    this.attempt({ kind: 'sni-mismatch', action: 'intercepted' }, verdict.host, asked, `${detail}: intercepted and governed as ${verdict.host}`);
    this.govern(socket, bytes, result, verdict.host, asked);
    return false;
  }

  /** A CONNECT to an IP literal whose client names no server: the policy's `noServerName` (true: tunnel on). */
  private unnamed(socket: net.Socket, asked: Asked, what: string): boolean {
    const rule = this.d.gate.bypassPolicy.noServerName;
    const detail = `the client asked for the address ${authorityText(asked)} and ${what}`;
    if (rule === 'block') {
      this.d.counters.tunnelled--;
      this.attempt({ kind: 'no-server-name', action: 'blocked' }, asked.host, asked, `${detail}: refused (policy noServerName: block)`);
      this.block(socket, asked.host, asked, null);
      return false;
    }
    this.attempt({ kind: 'no-server-name', action: 'tunnelled' }, asked.host, asked, `${detail}: tunnelled (policy noServerName: tunnel)`);
    return true;
  }

  /**
   * Intercepts `host` (a name the policy intercepts) for this client, unless the client pins:
   * then the policy's `pinnedClients` (always a refusal under fail closed) decides, for this client alone.
   */
  private govern(socket: net.Socket, bytes: Buffer, hello: ClientHello, host: string, asked: Asked): void {
    const client: ClientIdentity = { app: asked.app, fingerprint: hello.fingerprint, alpn: hello.alpn };
    const pin = this.d.pinning.pinned(host, client);
    if (pin !== null) {
      const refuse = this.d.gate.bypassPolicy.pinnedClients === 'block' || this.d.gate.failMode === 'closed';
      const detail = `${pin.client} rejects the agent's certificate for ${host} (pinned since ${new Date(pin.since).toISOString()})`;
      if (refuse) {
        this.attempt({ kind: 'pinned-client', action: 'blocked' }, host, asked, `${detail}: refused (${this.d.gate.failMode === 'closed' ? 'failMode: closed' : 'policy pinnedClients: block'})`);
        this.block(socket, host, asked, null);
        return;
      }
      this.attempt({ kind: 'pinned-client', action: 'tunnelled' }, host, asked, `${detail}: tunnelled for this client until ${new Date(pin.expiresAt).toISOString()}`);
      this.d.counters.tunnelled++;
      tunnel(socket, bytes, asked.host, asked.port, this.d.dialer, true);
      return;
    }
    // Checked again here: the name may come from the ClientHello (the transparent door, an IP
    // literal, a fronted name). Cheap: a cache lookup for a host already signed for.
    const uncertified = this.d.certificates.cannotIssue(host);
    if (uncertified !== null) {
      this.refuseUncertified(socket, host, asked, false, uncertified);
      return;
    }
    this.d.counters.intercepted++;
    // The ClientHello goes back into the socket's buffer: the TLS socket reads it first, natively.
    socket.unshift(bytes);
    // Which process opened the connection: looked up off the hot path, in the record once known.
    const owner = this.d.owners !== null && isLoopback(socket.remoteAddress) && socket.remotePort !== undefined && socket.localPort !== undefined ? this.d.owners.watch(socket.remotePort, socket.localPort) : undefined;
    const target: ExchangeTarget = { host, port: asked.port, secure: true, govern: true, door: asked.door, ...(owner === undefined ? {} : { owner }) };
    intercept(socket, target, this.d.certificates, this.d.inner, this.hooks(socket, client, asked), this.d.pacer, hello.alpn.includes('h2'));
  }

  /** Handshake outcomes for one intercepted connection: pinning is counted for its client. */
  private hooks(socket: net.Socket, client: ClientIdentity, asked: Asked): InterceptHooks {
    return {
      pinAbort: (host, port, reason) => {
        const pin = this.d.pinning.abort(host, client, reason);
        if (pin === null) return;
        const then =
          this.d.gate.bypassPolicy.pinnedClients === 'block' || this.d.gate.failMode === 'closed'
            ? 'this client is refused from now on'
            : `this client alone is tunnelled until ${new Date(pin.expiresAt).toISOString()}`;
        this.d.record({ host, port, outcome: 'pinned', app: asked.app, door: asked.door, reason: `${describeClient(client)}: ${reason}; ${pin.aborts} times: ${then}` });
      },
      secured: (host) => this.d.pinning.succeeded(host, client),
      certificateFailed: (host, error) => {
        this.d.onError(error, `certificate for ${host}`);
        // The 200 is out and the client is mid-handshake: a close is the only refusal left.
        this.refuseUncertified(socket, host, asked, false, error);
      },
    };
  }

  /** Counts and audits one bypass attempt. */
  private attempt(attempt: BypassAttempt, host: string, asked: Asked, reason: string): void {
    this.d.bypass.note(attempt, host, reason, asked.app);
    this.d.record({ host, port: asked.port, outcome: 'bypass', app: asked.app, door: asked.door, reason, attempt });
  }

  /**
   * Refuses a connection: 403 while a CONNECT is unanswered, else a close (the 200 is out, or the
   * transparent door's client speaks TLS). `reason` non-null records a blocked-host event.
   */
  private block(socket: net.Socket, host: string, asked: Asked, reason: string | null): void {
    this.d.counters.blocked++;
    if (reason !== null) {
      this.d.record({ host, port: asked.port, outcome: 'blocked', app: asked.app, door: asked.door, reason });
      if (asked.viaConnect) {
        socket.end(plainAnswer(403, 'Forbidden', `Outpost: ${reason}.`));
        return;
      }
    }
    socket.destroy();
  }

  /** Refuses a governed host the CA cannot sign for: 502 with the reason while a CONNECT is unanswered, else a close; one audit record. */
  private refuseUncertified(socket: net.Socket, host: string, asked: Asked, unanswered: boolean, error: Error): void {
    this.d.counters.blocked++;
    const reason = `Outpost cannot decrypt ${host}, which your organisation's policy governs (${error.message}); refused rather than passed on ungoverned`;
    this.d.record({ host, port: asked.port, outcome: 'uncertified', app: asked.app, door: asked.door, reason });
    if (unanswered) socket.end(plainAnswer(502, 'Bad Gateway', `${reason}. Run "outpost status" for details.`));
    else socket.destroy();
  }
}

/** A ClientHello's server name as a host the policy can classify, or null when it is none. */
function hostName(servername: string | null): string | null {
  if (servername === null) return null;
  try {
    return parseAuthority(servername, 443).host;
  } catch {
    return null;
  }
}

function authorityText(a: Authority): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}
