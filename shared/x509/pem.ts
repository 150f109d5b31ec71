/** PEM armour (RFC 7468) for DER certificates and requests. */

/** Wraps DER bytes in PEM armour with the given label (`CERTIFICATE`, `CERTIFICATE REQUEST`). */
export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block with `label` in `text`, as DER. */
export function fromPem(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

/** The first PEM block with `label`, or an error naming what was missing. */
export function firstPem(text: string, label: string): Buffer {
  const der = fromPem(text, label)[0];
  if (!der) throw new Error(`no PEM "${label}" block found`);
  return der;
}
