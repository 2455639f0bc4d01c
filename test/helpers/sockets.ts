import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A TCP socket in the LISTEN state, as the kernel reports it. */
export interface ListeningSocket {
  /** `127.0.0.1`, `0.0.0.0`, `::`, `::1`, `::ffff:127.0.0.1`, or a full IPv6 address. */
  address: string;
  port: number;
  inode: string;
}

const LISTEN = '0A';

/** `0100007F` → `127.0.0.1`: /proc/net/tcp prints each 32-bit word in host (little-endian) byte order. */
function wordBytes(hex: string): number[] {
  const bytes = (hex.match(/../g) ?? []).map((b) => parseInt(b, 16));
  return bytes.reverse();
}

function ipv6(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap(wordBytes);
  if (bytes.every((b) => b === 0)) return '::';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return '::1';
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/**
 * Every listening TCP socket of this machine's network namespace, read from /proc/net/tcp and tcp6 (Linux).
 * Reading the kernel's table tells where a server is bound without sending traffic to any other address.
 */
export function listeningSockets(): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const [file, toAddress] of [
    ['/proc/net/tcp', (hex: string) => wordBytes(hex).join('.')],
    ['/proc/net/tcp6', ipv6],
  ] as const) {
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const [local, , state] = [fields[1] ?? '', fields[2], fields[3]];
      if (state !== LISTEN) continue;
      const [addressHex = '', portHex = ''] = local.split(':');
      sockets.push({ address: toAddress(addressHex), port: parseInt(portHex, 16), inode: fields[9] ?? '' });
    }
  }
  return sockets;
}

/** The listening sockets that process `pid` holds open. */
export function listeningSocketsOf(pid: number): ListeningSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // the descriptor closed while we were reading the directory
    }
  }
  return listeningSockets().filter((s) => inodes.has(s.inode));
}

/** Addresses that only this machine can reach. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
