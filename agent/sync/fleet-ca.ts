/**
 * Fleet CA mode over sync: the device's intermediate is renewed through the gateway (`ca.renew` →
 * `ca.intermediate`) when it nears expiry or no longer covers the policy's hosts. The check runs
 * after each connect, after each signed policy applied (a new host needs a wider intermediate) and
 * daily; one renewal at a time.
 */
import { PROTOCOL_V, type AgentMessage, type GatewayMessage } from '../../shared/schema/protocol.js';
import type { IntermediateSigner, SignedIntermediate } from '../ca/fleet-authority.js';

type IntermediateMessage = Extract<GatewayMessage, { type: 'ca.intermediate' }>;

/** What the renewal needs. */
export interface FleetCaRenewalOptions {
  /** `CertificateAuthority.renewIfDue`: resolves true when it renewed. */
  readonly renewIfDue: (signer: IntermediateSigner) => Promise<boolean>;
  readonly send: (message: AgentMessage) => boolean;
  readonly logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How long to wait for the gateway's answer (default 30 s). */
  readonly answerTimeoutMs?: number;
}

/** Renews the device intermediate through the gateway. */
export class FleetCaRenewal {
  private pending: { resolve: (m: IntermediateMessage) => void; reject: (e: Error) => void } | null = null;
  private running: Promise<boolean> | null = null;
  private again: Promise<boolean> | null = null;

  constructor(private readonly options: FleetCaRenewalOptions) {}

  /**
   * Renews when due; resolves true when a new intermediate was installed (never rejects). A check
   * asked for while one runs runs again after it (the policy may have changed meanwhile).
   */
  check(): Promise<boolean> {
    if (this.running !== null) {
      this.again ??= this.running.then(() => {
        this.again = null;
        return this.check();
      });
      return this.again;
    }
    this.running = this.options
      .renewIfDue((csr) => this.sign(csr))
      .then(
        (renewed) => {
          if (renewed) this.options.logger.info({}, 'the device intermediate was renewed by the gateway');
          return renewed;
        },
        (err: unknown) => {
          this.options.logger.warn({ err: (err as Error).message }, 'cannot renew the device intermediate now; will try again');
          return false;
        },
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** `ca.intermediate` from the gateway. */
  answered(message: IntermediateMessage): void {
    this.pending?.resolve(message);
  }

  /** The connection ended: a renewal waiting for its answer fails (and is retried at the next connect). */
  disconnected(): void {
    this.pending?.reject(new Error('the gateway connection ended before it answered'));
  }

  private sign(csrPem: string): Promise<SignedIntermediate> {
    if (!this.options.send({ v: PROTOCOL_V, type: 'ca.renew', csrPem })) return Promise.reject(new Error('not connected to the gateway'));
    return new Promise<IntermediateMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the gateway did not answer the renewal in time')), this.options.answerTimeoutMs ?? 30_000);
      timer.unref();
      this.pending = {
        resolve: (m) => {
          clearTimeout(timer);
          this.pending = null;
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.pending = null;
          reject(e);
        },
      };
    }).then((m) => {
      const root = m.intermediate?.chainPem.at(-1);
      if (m.intermediate === null || root === undefined) throw new Error(`the gateway refused to sign: ${m.error ?? 'no reason given'}`);
      return { intermediatePem: m.intermediate.certificatePem, orgRootPem: root };
    });
  }
}
