/**
 * Pure: what the window's page may ask the main process (the preload's `window.outpost`), checked
 * before anything is done: the channel must be one of these, its argument must match, and the
 * sender must be the window's own page (not a frame or a page it navigated to).
 */
import { z } from 'zod';

/** Every channel and its argument. */
export const IPC_CHANNELS = {
  'outpost:status': z.undefined(),
  'outpost:activity': z.number().int().min(1).max(200),
  'outpost:budgets': z.undefined(),
  'outpost:pause': z.number().int().min(1).max(1440),
  'outpost:resume': z.undefined(),
  'outpost:select-key': z.string().min(1).max(128).nullable(),
  'outpost:diagnostics': z.undefined(),
  'outpost:export-diagnostics': z.undefined(),
} as const;
export type IpcChannel = keyof typeof IPC_CHANNELS;

/** A call that passed the checks. */
export type IpcCheck = { readonly ok: true; readonly channel: IpcChannel; readonly arg: unknown } | { readonly ok: false; readonly reason: string };

/** Checks one IPC call: `senderUrl` is the sending frame's URL, `pageUrl` the window's own page. */
export function checkIpc(channel: string, arg: unknown, senderUrl: string, pageUrl: string, mainFrame: boolean): IpcCheck {
  if (!mainFrame || senderUrl !== pageUrl) return { ok: false, reason: `IPC from ${senderUrl || 'an unknown frame'} refused: only the Outpost window may ask` };
  if (!Object.hasOwn(IPC_CHANNELS, channel)) return { ok: false, reason: `unknown IPC channel ${channel}` };
  const schema = IPC_CHANNELS[channel as IpcChannel];
  const parsed = schema.safeParse(arg);
  if (!parsed.success) return { ok: false, reason: `${channel}: ${parsed.error.issues[0]?.message ?? 'invalid argument'}` };
  return { ok: true, channel: channel as IpcChannel, arg: parsed.data };
}

/** Navigation and new windows: the window never leaves its own page. */
export function allowNavigation(target: string, pageUrl: string): boolean {
  return target === pageUrl;
}
