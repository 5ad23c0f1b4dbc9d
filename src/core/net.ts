/** IP addresses and CIDR blocks, IPv4 and IPv6: shared by the NACL actions, the simulated cloud and tabletop objectives. */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
}

function v4ToBig(ip: string): bigint {
  return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function v6ToBig(ip: string): bigint {
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToBig(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function parseIp(ip: string): { family: 4 | 6; value: bigint } | undefined {
  if (isIPv4(ip)) return { family: 4, value: v4ToBig(ip) };
  if (isIPv6(ip)) return { family: 6, value: v6ToBig(ip) };
  return undefined;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  const bits = Number(m[2]);
  if (!ip || bits > (ip.family === 4 ? 32 : 128)) return undefined;
  return { family: ip.family, base: ip.value, bits };
}

export const isCidr4 = (text: string): boolean => parseCidr(text)?.family === 4;
export const isCidr6 = (text: string): boolean => parseCidr(text)?.family === 6;

/** Whether `ip` falls inside `cidr` (false across families). */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  if (!c || !a || c.family !== a.family) return false;
  const width = c.family === 4 ? 32 : 128;
  const shift = BigInt(width - c.bits);
  return c.base >> shift === a.value >> shift;
}

export function ipFamily(ip: string): 4 | 6 | undefined {
  return parseIp(ip)?.family;
}
