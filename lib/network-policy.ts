import dns, { type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import net from 'node:net';
import { buildConnector } from 'undici';

/**
 * Where the worker may connect on a tenant's (or an operator's) behalf. A PMS base URL is tenant data, so without a
 * rule a tenant admin could point the worker at its own network: the metadata service (169.254.169.254), Redis,
 * Postgres, the Temporal frontend. The rule is checked on the address actually connected to, after DNS resolution
 * (undici's `connect.lookup` hook), so a name that resolves to a private address, or one that changes its answer
 * between a check and the connect (DNS rebinding), is refused too.
 */

/** Ranges no outbound call to a PMS or transcription service may reach, with the reason given. */
const ipv4Ranges: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata lives at 169.254.169.254)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)'],
];
const ipv6Ranges: [string, number, string][] = [
  // ::/128, ::1/128 and the deprecated IPv4-compatible ::a.b.c.d; IPv4-mapped ::ffff:0:0/96 is checked as IPv4.
  ['::', 96, 'unspecified, loopback or IPv4-compatible'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique local (private; fd00::/8 included)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

const v4 = ipv4Ranges.map(([network, prefix, reason]) => {
  const list = new net.BlockList();
  list.addSubnet(network, prefix, 'ipv4');
  return { list, reason };
});
const v6 = ipv6Ranges.map(([network, prefix, reason]) => {
  const list = new net.BlockList();
  list.addSubnet(network, prefix, 'ipv6');
  return { list, reason };
});

/** The IPv4 address an IPv6 address carries in its last 32 bits, for the prefixes that embed one. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return mapped[1];
  // Expand to 8 groups to read the prefix and the last two groups.
  const [head = '', tail = ''] = lower.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  if (tailGroups.at(-1)?.includes('.')) return undefined; // dotted forms other than ::ffff: are not expected here
  const groups = lower.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  if (groups.length !== 8) return undefined;
  const words = groups.map((g) => parseInt(g || '0', 16));
  const isMapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  const isNat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  const is6to4 = words[0] === 0x2002;
  if (!isMapped && !isNat64 && !is6to4) return undefined;
  // 6to4 (2002:AABB:CCDD::/48) carries the IPv4 address in groups 1-2; the others in groups 6-7.
  const [hi, lo] = is6to4 ? [words[1]!, words[2]!] : [words[6]!, words[7]!];
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/**
 * Why the worker may not connect to this IP address (loopback, private, link-local, metadata, ...), or undefined
 * when it is a public address. IPv6 addresses that embed an IPv4 one (mapped, NAT64, 6to4) are judged by it.
 */
export function refusedAddressReason(address: string): string | undefined {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(ip);
  if (family === 4) return v4.find(({ list }) => list.check(ip, 'ipv4'))?.reason;
  if (family !== 6) return 'not an IP address';
  const inner = embeddedIpv4(ip);
  if (inner !== undefined) return refusedAddressReason(inner);
  return v6.find(({ list }) => list.check(ip, 'ipv6'))?.reason;
}

/** A connection the network policy refused: the configuration is wrong, retrying cannot help. */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = 'ERR_ADDRESS_REFUSED';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(
      host === address
        ? `refused to connect to ${address}: ${reason} address`
        : `refused to connect to ${host} (resolves to ${address}): ${reason} address`,
    );
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** `dns.lookup` that fails when any address the name resolves to is refused, so no answer can slip through. */
export function guardedLookup(
  hostname: string,
  options: LookupOneOptions | LookupAllOptions | number | undefined,
  callback: LookupCallback,
): void {
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  dns.lookup(hostname, { ...opts, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    for (const { address } of addresses) {
      const reason = refusedAddressReason(address);
      if (reason !== undefined) return callback(new AddressRefusedError(hostname, address, reason), []);
    }
    if ('all' in opts && opts.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    return callback(null, first.address, first.family);
  });
}

/**
 * An undici connector that refuses private, loopback, link-local and metadata addresses: IP literals before
 * connecting, names through {@link guardedLookup}. With `allowPrivateNetworks` it is undici's own connector.
 */
export function policyConnector({
  timeoutMs,
  allowPrivateNetworks,
}: {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}): buildConnector.connector {
  if (allowPrivateNetworks) return buildConnector({ timeout: timeoutMs });
  const connect = buildConnector({ timeout: timeoutMs, lookup: guardedLookup });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    // Node does not call `lookup` for an IP literal, so literals are judged here.
    if (net.isIP(host)) {
      const reason = refusedAddressReason(host);
      if (reason !== undefined) {
        callback(new AddressRefusedError(host, host, reason), null);
        return;
      }
    }
    connect(options, callback);
  };
}

/** Whether a request failed because the network policy refused its address (possibly wrapped by undici). */
export function addressRefusal(err: unknown): AddressRefusedError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof AddressRefusedError) return e;
  }
  return undefined;
}

/**
 * Why a configured service URL (a tenant's PMS base URL, the transcription URL) is refused, or undefined when it is
 * acceptable: http(s) only, no user name or password (credentials go through secret references), no query string
 * or fragment (the client builds its own). The address rule applies later, at connect time.
 */
export function serviceUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (use the credentials reference)';
  if (url.search !== '' || raw.includes('?')) return 'must not have a query string';
  if (url.hash !== '' || raw.includes('#')) return 'must not have a fragment';
  return undefined;
}
