/**
 * Pure: reading the agent's event stream (`GET /v1/events`, server-sent events) in the main
 * process. Each event is validated against the control API's schema before anything uses it: an
 * event the tray does not know (a newer agent) or a malformed one is skipped, never trusted.
 */
import { controlEvent, type ControlEvent } from '../../shared/schema/control.js';

/** Splits a growing buffer into complete event blocks; returns them and what is left. */
export function takeBlocks(buffer: string): { blocks: string[]; rest: string } {
  const blocks: string[] = [];
  let rest = buffer.replace(/\r\n?/g, '\n');
  let end: number;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    blocks.push(rest.slice(0, end));
    rest = rest.slice(end + 2);
  }
  return { blocks, rest };
}

/** One event block as a validated event; null for a comment, an unknown type or malformed data. */
export function parseEvent(block: string): ControlEvent | null {
  const data = block
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).replace(/^ /, ''))
    .join('\n');
  if (data === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = controlEvent.safeParse(json);
  return parsed.success ? parsed.data : null;
}
