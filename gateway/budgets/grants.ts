/**
 * How much of a fleet budget a device may spend: its grant, a cap on its own cumulative spend in the
 * window. Grants come only from what no device holds (the limit minus every device's grant or spend,
 * whichever is larger), so however the devices' requests interleave, online or offline, the fleet's
 * total stays within the limit plus at most one request's estimation error per device. Grants only
 * grow. Pure: the store runs it inside the transaction that reads and writes the window's grants.
 */
import type { GrantWindow } from '../store/fleet-windows.js';

/** The smallest share worth handing out, as a fraction of the limit (fewer top-ups). */
const MIN_SHARE = 0.01;
/** The largest share one top-up hands out, as a fraction of the limit (less stranded in one device). */
const MAX_SHARE = 0.1;

/** What no device holds yet: the limit minus every device's grant or spend, whichever is larger. */
export function unallocated(w: GrantWindow): number {
  let allocated = 0;
  for (const d of new Set([...w.spent.keys(), ...w.caps.keys()])) allocated += Math.max(w.caps.get(d) ?? 0, w.spent.get(d) ?? 0);
  return Math.max(0, w.limitUsd - allocated);
}

/**
 * The device's next grant. It keeps its grant while its headroom covers half a share and `needUsd`
 * (a refused request's estimate); else it gets what is missing of max(share, need), as far as the
 * unallocated budget goes. A share is half of what is unallocated split among the window's devices,
 * between 1 % and 10 % of the limit.
 */
export function nextGrant(w: GrantWindow, deviceId: string, needUsd = 0): number {
  const spent = w.spent.get(deviceId) ?? 0;
  const cap = w.caps.get(deviceId) ?? 0;
  const devices = new Set([...w.spent.keys(), ...w.caps.keys(), deviceId]).size;
  const free = unallocated(w);
  const share = Math.min(free, Math.max(w.limitUsd * MIN_SHARE, Math.min(w.limitUsd * MAX_SHARE, free / (2 * devices))));
  const headroom = Math.max(0, cap - spent);
  if (cap > 0 && headroom >= share / 2 && headroom >= needUsd) return cap;
  const extra = Math.min(free, Math.max(share, needUsd) - headroom);
  return extra <= 0 ? cap : Math.max(cap, spent) + extra;
}
