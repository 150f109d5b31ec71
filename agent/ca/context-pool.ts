/**
 * Secure contexts made ahead with the shared leaf key, so a new host costs only its certificate.
 * Building a context from scratch costs about a millisecond of main-thread time on OpenSSL 3
 * (SSL_CTX_new and decoding the key take most of it); a context made ahead, in an idle turn, needs
 * only the certificate (`SecureContext.setCert`, what `tls.createSecureContext` itself calls), about
 * a third of that. Where that internal method is missing (another Node line), every context is
 * built the documented way: slower, still correct.
 */
import { createSecureContext, type SecureContext } from 'node:tls';

/** The native handle's setter, internal to Node (`lib/internal/tls/secure-context.js` calls it). */
interface NativeContext {
  setCert?: (pem: string) => void;
}

/** Contexts waiting for a certificate. */
export class ContextPool {
  private readonly spare: SecureContext[] = [];
  private refilling = false;
  private readonly usable: boolean;

  constructor(
    private readonly keyPem: string,
    private readonly size = 16,
    /** True while other main-thread work is queued: refills wait for an idle turn. */
    private readonly busy: () => boolean = () => false,
  ) {
    const probe = (createSecureContext({ key: keyPem }) as SecureContext & { context: NativeContext }).context;
    this.usable = typeof probe.setCert === 'function';
    this.refill();
  }

  /** A context for `certPem` (leaf + chain): a spare one when available, else built now. */
  take(certPem: string): SecureContext {
    const ctx = this.usable ? this.spare.pop() : undefined;
    this.refill();
    if (ctx === undefined) return createSecureContext({ key: this.keyPem, cert: certPem });
    (ctx as SecureContext & { context: NativeContext }).context.setCert?.(certPem);
    return ctx;
  }

  private refill(): void {
    if (!this.usable || this.refilling || this.spare.length >= this.size) return;
    this.refilling = true;
    const step = (): void => {
      if (!this.busy()) this.spare.push(createSecureContext({ key: this.keyPem }));
      if (this.spare.length < this.size) setImmediate(step).unref();
      else this.refilling = false;
    };
    setImmediate(step).unref();
  }
}
