/**
 * The console's static site as the gateway serves it (issue 17.1), from the bundle `npm run build`
 * wrote: the page revalidates, its assets carry a hash of their content in their names and are
 * immutable for a year, everything under a strict CSP with nothing inline, and a name the build did
 * not write is not served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

describe('the console site', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ adminToken: 'console-site-admin-token-0123456789' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves the page to revalidate and its hashed assets as immutable, under a strict CSP', async () => {
    const page = await fetch(`${gw.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await page.text();
    // Nothing inline: every script has a source, no element carries a style.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    const assets = [...html.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.map((a) => a.replace(/-[0-9a-f]{12}\./, '.'))).toEqual(['assets/favicon.svg', 'assets/style.css', 'assets/console.js']);
    for (const asset of assets) {
      const res = await fetch(`${gw.url}/console/${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toBe(csp);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect((await fetch(`${gw.url}/console/${assets[2]!}`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('serves no name the build did not write', async () => {
    for (const p of ['/console/assets/console.js', '/console/assets.json', '/console/assets/..%2fassets.json', '/console/index.html']) {
      const res = await fetch(`${gw.url}${p}`);
      expect(res.status, p).not.toBe(200);
      await res.arrayBuffer();
    }
  });
});
