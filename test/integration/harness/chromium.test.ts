/**
 * Headless Chromium trusts the test CA through its own NSS database and reaches the fake
 * provider by its real hostname: straight (host-resolver rules) and through a CONNECT proxy, and
 * reads an SSE stream with fetch in the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../support/chromium.js';
import { answerText, startFakeProvider, type FakeProvider } from '../../support/fake-provider.js';
import { startTunnelProxy, type TunnelProxy } from '../../support/tunnel-proxy.js';

describe('Chromium against the fake provider', () => {
  let provider: FakeProvider;
  let proxy: TunnelProxy;

  beforeAll(async () => {
    provider = await startFakeProvider();
    proxy = await startTunnelProxy(provider.resolveMap());
  });
  afterAll(async () => {
    await proxy?.close();
    await provider?.close();
  });

  it('loads an API page over TLS trusted through NSS, with the host mapped to loopback', async () => {
    const chrome = await launchChromium({ resolve: provider.resolveMap(), caFiles: [provider.ca.caFile] });
    try {
      const page = await chrome.browser.newPage();
      const response = await page.goto('https://api.openai.com/v1/models');
      expect(response?.status()).toBe(200);
      expect(JSON.parse(await page.innerText('body')).object).toBe('list');
    } finally {
      await chrome.close();
    }
  });

  it('streams SSE with fetch in a page, through a CONNECT proxy', async () => {
    const chrome = await launchChromium({ proxyUrl: proxy.url, caFiles: [provider.ca.caFile] });
    try {
      const page = await chrome.browser.newPage();
      await page.goto('https://example-ai.test/v1/models');
      const text = await page.evaluate(async () => {
        const response = await fetch('/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'web-model', stream: true, messages: [{ role: 'user', content: 'from the browser' }] }),
        });
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let raw = '';
        for (let part = await reader.read(); !part.done; part = await reader.read()) raw += part.value;
        return raw
          .split('\n\n')
          .filter((event) => event.startsWith('data: {'))
          .map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? '')
          .join('');
      });
      expect(text).toBe(answerText('web-model', 'from the browser'));
      expect(proxy.connects).toContain('example-ai.test:443');
    } finally {
      await chrome.close();
    }
  });

  it('refuses the provider when the CA is not in its NSS database', async () => {
    const chrome = await launchChromium({ resolve: provider.resolveMap() });
    try {
      const page = await chrome.browser.newPage();
      await expect(page.goto('https://api.openai.com/v1/models')).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await chrome.close();
    }
  });
});
