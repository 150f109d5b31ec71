/** Small DOM helpers: the console builds its pages from elements (the CSP allows no inline HTML script or style). */
import { money as dollars } from '../shared/money.js';

type Child = Node | string | null | undefined | false;

/** An element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** A button that runs `action`, disabled while it runs. */
export function button(label: string, action: () => Promise<void> | void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', () => {
    b.disabled = true;
    void Promise.resolve()
      .then(action)
      .catch((err: unknown) => notify((err as Error).message, 'error'))
      .finally(() => (b.disabled = false));
  });
  return b;
}

/** A table from headers and rows of cells. */
export function table(caption: string, headers: readonly string[], rows: ReadonlyArray<readonly Child[]>): HTMLTableElement {
  return el(
    'table',
    {},
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

/** A message at the top of the page (success or error), read out by screen readers. */
export function notify(text: string, tone: 'ok' | 'error' = 'ok'): void {
  const box = document.getElementById('notice');
  if (box === null) return;
  box.textContent = text;
  box.className = `notice notice-${tone}`;
  box.hidden = false;
}

/** Relative time in words ("3 min ago"). */
export function ago(iso: string | null): string {
  if (iso === null) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** Dollars: cents, "under 1¢", thousands grouped. */
export function money(usd: number | null): string {
  return usd === null ? '–' : dollars(usd);
}
