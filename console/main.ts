/** The console's shell: the session, the navigation, and the page for the address's hash. */
import { session, signOut } from './api.js';
import { el, notify } from './dom.js';
import { audit, devices, inventory, overview, policy, spend, type PageContext } from './pages.js';

const PAGES: ReadonlyArray<readonly [string, string, (ctx: PageContext, params: URLSearchParams) => Promise<void>]> = [
  ['overview', 'Overview', overview],
  ['devices', 'Devices', devices],
  ['audit', 'Audit', audit],
  ['policy', 'Policy', policy],
  ['inventory', 'Apps and MCP servers', inventory],
  ['spend', 'Spend', spend],
];

async function start(): Promise<void> {
  const s = await session();
  if (s === null) {
    location.assign('/console/sign-in');
    return;
  }
  const main = document.getElementById('main') as HTMLElement;
  const nav = document.getElementById('nav') as HTMLElement;
  const who = document.getElementById('who') as HTMLElement;
  who.replaceChildren(el('span', {}, `${s.user} · ${s.roles.join(', ')}`), el('button', { type: 'button', id: 'sign-out' }, 'Sign out'));
  document.getElementById('sign-out')?.addEventListener('click', () => void signOut());
  const render = async (): Promise<void> => {
    const [name = 'overview', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
    const page = PAGES.find(([id]) => id === name) ?? PAGES[0];
    if (page === undefined) return;
    nav.replaceChildren(...PAGES.map(([id, label]) => el('a', { href: `#/${id}`, ...(id === page[0] ? { 'aria-current': 'page' } : {}) }, label)));
    document.title = `${page[1]} · Outpost console`;
    (document.getElementById('notice') as HTMLElement).hidden = true;
    document.body.removeAttribute('data-ready');
    try {
      await page[2]({ session: s, main }, new URLSearchParams(query));
    } catch (err) {
      notify((err as Error).message, 'error');
    }
    main.focus();
    document.body.setAttribute('data-ready', page[0]);
  };
  window.addEventListener('hashchange', () => void render());
  await render();
}

void start();
