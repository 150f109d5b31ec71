/**
 * A small XML property list writer for the `.mobileconfig` (Apple's plist DTD): dictionaries,
 * arrays, strings, integers, booleans and data. Nulls are left out (plists have none).
 */

/** A value a plist can hold. */
export type PlistValue = string | number | boolean | Buffer | PlistValue[] | { readonly [key: string]: PlistValue | null | undefined };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function write(value: PlistValue, indent: string): string {
  const inner = `${indent}  `;
  if (typeof value === 'string') return `${indent}<string>${escape(value)}</string>`;
  if (typeof value === 'boolean') return `${indent}<${value ? 'true' : 'false'}/>`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`plist: ${value} is not an integer`);
    return `${indent}<integer>${value}</integer>`;
  }
  if (Buffer.isBuffer(value)) {
    const lines = value.toString('base64').match(/.{1,64}/g) ?? [];
    return `${indent}<data>\n${lines.map((l) => `${inner}${l}`).join('\n')}\n${indent}</data>`;
  }
  if (Array.isArray(value)) return value.length === 0 ? `${indent}<array/>` : `${indent}<array>\n${value.map((v) => write(v, inner)).join('\n')}\n${indent}</array>`;
  const entries = Object.entries(value).filter((e): e is [string, PlistValue] => e[1] !== null && e[1] !== undefined);
  if (entries.length === 0) return `${indent}<dict/>`;
  return `${indent}<dict>\n${entries.map(([k, v]) => `${inner}<key>${escape(k)}</key>\n${write(v, inner)}`).join('\n')}\n${indent}</dict>`;
}

/** The whole document. */
export function buildPlist(root: PlistValue): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    write(root, ''),
    '</plist>',
    '',
  ].join('\n');
}
