import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkUrl, fetchUrl, type Resolver } from './url-fetch.ts';

/**
 * The SSRF guard of URL documents, against a real HTTP server on loopback. Loopback is itself
 * forbidden, so the tests that fetch reach the server through the allow-list — which is what
 * the allow-list is for.
 */

let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (url.pathname === '/faq') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<h1>FAQ</h1><p>Delivery costs 1500.</p>');
    } else if (url.pathname === '/redirect') {
      response.writeHead(302, { location: url.searchParams.get('to') ?? '/faq' });
      response.end();
    } else if (url.pathname === '/loop') {
      response.writeHead(301, { location: '/loop' });
      response.end();
    } else if (url.pathname === '/big') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      // No content-length: the cap must hold while reading.
      response.write('x'.repeat(5000));
      response.end('y'.repeat(5000));
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A resolver that knows only the names given (like DNS under an attacker's control). */
function resolverOf(names: Record<string, string>): Resolver {
  return async (hostname) => {
    const address = names[hostname];
    if (!address) throw new Error(`ENOTFOUND ${hostname}`);
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
}

const limits = { maxBytes: 1_000_000, timeoutMs: 5000 };

describe('checkUrl', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://10.1.2.3/admin', 'private'],
    ['http://192.168.0.1/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://100.64.0.1/', 'carrier-grade NAT'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://[::1]/', 'loopback'],
    ['http://[fd00::1]/', 'unique-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://0x7f.1/', 'loopback'],
  ])('refuses %s (%s)', async (url, range) => {
    await expect(checkUrl(url, { allowlist: [] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining(`${range} address`),
    });
  });

  it('refuses a name that resolves to a private address, naming both', async () => {
    await expect(
      checkUrl('https://evil.example/', {
        allowlist: [],
        resolve: resolverOf({ 'evil.example': '127.0.0.1' }),
      }),
    ).rejects.toMatchObject({ message: expect.stringContaining('evil.example resolves to 127.0.0.1') });
    // And with the system resolver: localhost.
    await expect(checkUrl('http://localhost/', { allowlist: [] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('refuses a name when any of its addresses is private', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ];
    await expect(checkUrl('http://mixed.example/', { allowlist: [], resolve })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('refuses other schemes, credentials and junk', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/x',
      'gopher://x',
      'http://user:pw@example.com/',
      'not a url',
    ]) {
      await expect(checkUrl(url, { allowlist: [] }), url).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it('accepts public addresses, and private ones the allow-list names by host, wildcard, address or CIDR', async () => {
    const resolve = resolverOf({ 'shop.example': '93.184.216.34', 'wiki.corp.example': '10.2.3.4' });
    await expect(checkUrl('https://shop.example/faq', { allowlist: [], resolve })).resolves.toBeDefined();
    await expect(checkUrl('http://8.8.8.8/', { allowlist: [] })).resolves.toBeDefined();
    await expect(
      checkUrl('http://wiki.corp.example/', { allowlist: ['*.corp.example'], resolve }),
    ).resolves.toBeDefined();
    await expect(
      checkUrl('http://wiki.corp.example/', { allowlist: ['10.2.0.0/16'], resolve }),
    ).resolves.toBeDefined();
    await expect(checkUrl('http://127.0.0.1/', { allowlist: ['127.0.0.1'] })).resolves.toBeDefined();
    await expect(checkUrl('http://[::1]/', { allowlist: ['::1/128'] })).resolves.toBeDefined();
    await expect(checkUrl('http://10.9.9.9/', { allowlist: ['10.2.0.0/16'] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});

describe('fetchUrl', () => {
  it('fetches from an allow-listed host, connecting to the address it checked', async () => {
    // "docs.internal" exists only in this resolver: the fetch can only succeed by connecting to
    // the address the check resolved, not by a second lookup of its own.
    const fetched = await fetchUrl(`http://docs.internal:${port}/faq`, {
      ...limits,
      allowlist: ['docs.internal'],
      resolve: resolverOf({ 'docs.internal': '127.0.0.1' }),
    });
    expect(fetched.contentType).toMatch(/^text\/html/);
    expect(fetched.body.toString()).toContain('Delivery costs 1500.');
  });

  it('refuses loopback without the allow-list', async () => {
    await expect(
      fetchUrl(`http://127.0.0.1:${port}/faq`, { ...limits, allowlist: [] }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('follows redirects, checking every hop: a redirect to a private address is refused', async () => {
    const policy = {
      ...limits,
      allowlist: ['docs.internal'],
      resolve: resolverOf({ 'docs.internal': '127.0.0.1' }),
    };
    const followed = await fetchUrl(`http://docs.internal:${port}/redirect?to=/faq`, policy);
    expect(followed.url).toBe(`http://docs.internal:${port}/faq`);
    for (const to of [
      `http://127.0.0.1:${port}/faq`,
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${port}/faq`,
    ]) {
      await expect(
        fetchUrl(`http://docs.internal:${port}/redirect?to=${encodeURIComponent(to)}`, policy),
        to,
      ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('URL refused') });
    }
  });

  it('gives up after 5 redirects', async () => {
    await expect(
      fetchUrl(`http://127.0.0.1:${port}/loop`, { ...limits, allowlist: ['127.0.0.1'] }),
    ).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      message: expect.stringContaining('redirects more than 5'),
    });
  });

  it('stops reading at the size cap', async () => {
    await expect(
      fetchUrl(`http://127.0.0.1:${port}/big`, { ...limits, maxBytes: 6000, allowlist: ['127.0.0.0/8'] }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('reports an HTTP error status as an upstream error', async () => {
    await expect(
      fetchUrl(`http://127.0.0.1:${port}/missing`, { ...limits, allowlist: ['127.0.0.1'] }),
    ).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', message: expect.stringContaining('HTTP 404') });
  });
});
