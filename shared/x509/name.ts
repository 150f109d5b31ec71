/** X.501 distinguished names, as certificates carry them (RFC 5280 §4.1.2.4). */
import { oid, seq, set, utf8 } from './der.js';

/** The attributes Outpost writes into names. */
const ATTRIBUTE_OIDS = {
  CN: '2.5.4.3',
  O: '2.5.4.10',
  OU: '2.5.4.11',
} as const;

/** One relative distinguished name attribute, e.g. `['CN', 'api.openai.com']`. */
export type NameAttribute = readonly [keyof typeof ATTRIBUTE_OIDS, string];

/** A DER Name, one attribute per RDN, in the given order, as UTF8String. */
export function encodeName(attrs: readonly NameAttribute[]): Buffer {
  return seq(...attrs.map(([type, value]) => set(seq(oid(ATTRIBUTE_OIDS[type]), utf8(value)))));
}

/** RFC 5280 upper bound of a commonName: 64 characters. A longer host goes in the SAN only. */
export const COMMON_NAME_MAX = 64;
