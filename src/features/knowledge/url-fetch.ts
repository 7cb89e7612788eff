import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../../platform/errors.ts';

/**
 * Fetching a knowledge document from a URL given by a workspace admin, without letting that
 * URL reach into the network Switchboard runs in (SSRF):
 * - only http and https;
 * - the host name is resolved here and EVERY address it resolves to must be public unicast
 *   (no loopback, private, link-local — cloud metadata at 169.254.169.254 —, unique-local,
 *   carrier-grade NAT, multicast, reserved, NAT64/6to4/Teredo that embed IPv4, IPv4-mapped
 *   IPv6 judged as the IPv4 inside), unless the host or the address is in the allow-list;
 * - the connection goes to the address that was checked (a `lookup` that returns it), so a
 *   second, different DNS answer cannot slip in between check and connect (DNS rebinding);
 * - redirects are followed by hand, each hop checked the same way, at most 5;
 * - one deadline for the whole fetch, and a byte cap enforced while reading.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface UrlPolicy {
  /** Host names (`intranet.local`, `*.corp.example`) and IPs/CIDRs (`10.1.0.0/16`) allowed although private. */
  allowlist: readonly string[];
  /** DNS resolution; the system resolver by default (tests point names at chosen addresses). */
  resolve?: Resolver;
}

export interface FetchUrlOptions extends UrlPolicy {
  maxBytes: number;
  /** Deadline of the whole fetch, redirects included (default 15 s). */
  timeoutMs?: number;
  maxRedirects?: number;
}

export interface FetchedUrl {
  /** The URL the body came from (after redirects). */
  url: string;
  contentType: string | undefined;
  body: Buffer;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

/**
 * Checks that `url` may be fetched under `policy` and returns the addresses to connect to.
 * Throws AppError BAD_REQUEST naming the reason otherwise.
 */
export async function checkUrl(
  url: string,
  policy: UrlPolicy,
): Promise<{ url: URL; addresses: ResolvedAddress[] }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused(`"${url.slice(0, 200)}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw refused(`only http and https URLs can be fetched, not ${parsed.protocol.replace(':', '')}`);
  }
  if (parsed.username || parsed.password) throw refused('URLs with credentials are not fetched');
  const hostname = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const hostAllowed = isHostAllowed(hostname, policy.allowlist);
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(hostname)) {
    addresses = [{ address: hostname, family: ipaddr.parse(hostname).kind() === 'ipv6' ? 6 : 4 }];
  } else {
    try {
      addresses = await (policy.resolve ?? systemResolver)(hostname);
    } catch (cause) {
      throw new AppError('BAD_REQUEST', { message: `URL refused: ${hostname} does not resolve`, cause });
    }
    if (addresses.length === 0) throw refused(`${hostname} does not resolve`);
  }
  if (!hostAllowed) {
    for (const { address } of addresses) {
      const range = rangeOf(address);
      if (range !== 'unicast' && !isAddressAllowed(address, policy.allowlist)) {
        const shown = hostname === address ? address : `${hostname} resolves to ${address}, which`;
        throw refused(
          `${shown} is a ${describeRange(range)} address (add it to KNOWLEDGE_URL_ALLOWLIST to allow)`,
        );
      }
    }
  }
  return { url: parsed, addresses };
}

/** GETs `url` under the rules of the module comment. */
export async function fetchUrl(url: string, options: FetchUrlOptions): Promise<FetchedUrl> {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let current = url;
  for (let hop = 0; ; hop++) {
    const checked = await checkUrl(current, options);
    const response = await request(checked.url, checked.addresses, deadline);
    const location = response.headers.location;
    if (REDIRECTS.has(response.statusCode ?? 0) && location) {
      response.resume();
      if (hop >= (options.maxRedirects ?? MAX_REDIRECTS)) {
        throw new AppError('UPSTREAM_ERROR', {
          message: `${url} redirects more than ${MAX_REDIRECTS} times`,
        });
      }
      current = new URL(location, checked.url).toString();
      continue;
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.resume();
      throw new AppError('UPSTREAM_ERROR', { message: `${checked.url.toString()} answered HTTP ${status}` });
    }
    const body = await readCapped(response, options.maxBytes, deadline);
    const contentType = response.headers['content-type'];
    return { url: checked.url.toString(), contentType, body };
  }
}

function request(url: URL, addresses: ResolvedAddress[], signal: AbortSignal): Promise<IncomingMessage> {
  // Connect to the addresses just checked, never to a fresh DNS answer.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) {
      callback(null, addresses);
      return;
    }
    const first = addresses[0];
    if (!first) {
      callback(new Error('no address'), '', 4);
      return;
    }
    callback(null, first.address, first.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(
      url,
      {
        method: 'GET',
        lookup: pinned,
        // A fresh socket per request: a pooled one may have been opened for another address.
        agent: false,
        signal,
        headers: {
          'user-agent': 'SwitchboardKnowledgeFetcher/1.0',
          accept:
            'text/html, text/markdown, text/plain, application/pdf, application/vnd.openxmlformats-officedocument.wordprocessingml.document;q=0.9, */*;q=0.1',
          'accept-encoding': 'identity',
        },
      },
      resolve,
    );
    outgoing.on('error', (cause) => reject(transportError(url, cause, signal)));
    outgoing.end();
  });
}

function readCapped(response: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    response.on('data', (part: Buffer) => {
      size += part.length;
      if (size > maxBytes) {
        // Settle first: destroying emits 'aborted', which must not win.
        reject(tooLarge(maxBytes));
        response.destroy();
        return;
      }
      parts.push(part);
    });
    response.on('end', () => resolve(Buffer.concat(parts)));
    response.on('error', (cause) => reject(transportError(undefined, cause, signal)));
    response.on('aborted', () => reject(transportError(undefined, new Error('connection closed'), signal)));
  });
}

// ─── Policy ──────────────────────────────────────────────────────────────────

function rangeOf(address: string): string {
  // process() turns IPv4-mapped IPv6 (::ffff:127.0.0.1) into the IPv4 it carries.
  return ipaddr.process(address).range();
}

function isHostAllowed(hostname: string, allowlist: readonly string[]): boolean {
  return allowlist.some((entry) => {
    if (entry.startsWith('*.')) return hostname.endsWith(entry.slice(1));
    return entry === hostname;
  });
}

function isAddressAllowed(address: string, allowlist: readonly string[]): boolean {
  const ip = ipaddr.process(address);
  return allowlist.some((entry) => {
    const network = networkOf(entry);
    return network !== undefined && ip.kind() === network[0].kind() && ip.match(network);
  });
}

/** An allow-list entry as a network: a CIDR, or one address; undefined for a host name. */
function networkOf(entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  if (entry.includes('/')) return ipaddr.isValidCIDR(entry) ? ipaddr.parseCIDR(entry) : undefined;
  if (!ipaddr.isValid(entry)) return undefined;
  const ip = ipaddr.process(entry);
  return [ip, ip.kind() === 'ipv4' ? 32 : 128];
}

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

function describeRange(range: string): string {
  return RANGE_NAMES[range] ?? `non-public (${range})`;
}

function refused(reason: string): AppError {
  return new AppError('BAD_REQUEST', { message: `URL refused: ${reason}` });
}

function tooLarge(maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', { message: `The document is larger than ${maxBytes} bytes` });
}

function transportError(url: URL | undefined, cause: unknown, signal: AbortSignal): AppError {
  const what = url ? url.toString() : 'the download';
  if (signal.aborted) return new AppError('UPSTREAM_ERROR', { message: `${what} timed out`, cause });
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AppError('UPSTREAM_ERROR', { message: `${what} failed: ${reason}`, cause });
}
