/** CIDR blocks as the NACL actions need them: parsed, compared by value, validated in input schemas. */
import * as z from 'zod';
import { parseCidr, type Cidr } from '../../core/net.js';

const width = (c: Cidr) => (c.family === 4 ? 32 : 128);
const hostBits = (c: Cidr) => c.base & ((1n << BigInt(width(c) - c.bits)) - 1n);

/** The same block, whatever the spelling (`2001:DB8::/32` and `2001:db8:0::/32` are equal). */
export function sameCidr(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = parseCidr(a);
  const y = parseCidr(b);
  return !!x && !!y && x.family === y.family && x.bits === y.bits && x.base === y.base;
}

function canonical(c: Cidr): string {
  const base = c.base & ~((1n << BigInt(width(c) - c.bits)) - 1n);
  if (c.family === 4) return `${[24n, 16n, 8n, 0n].map((s) => (base >> s) & 255n).join('.')}/${c.bits}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((base >> BigInt(112 - i * 16)) & 0xffffn).toString(16));
  return `${groups.join(':')}/${c.bits}`;
}

/**
 * An attacker address range to deny. /0 is refused: a NACL that denies every address is isolation
 * of the whole subnet by another means (and cuts every other instance in it), which is what
 * `ec2.isolate-instance` does for one instance, reversibly.
 */
export const DenyCidr = z.string().superRefine((text, ctx) => {
  const c = parseCidr(text);
  if (!c) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a CIDR block such as 203.0.113.0/24 or 2001:db8::/32` });
    return;
  }
  if (c.bits === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `'${text}' denies every address: that cuts the whole subnet off; isolate the instance (ec2.isolate-instance) instead`,
    });
    return;
  }
  // A block with host bits set reads like a mistake (a /24 meant to start at .0), and comparing
  // it with the entries AWS stores would be ambiguous.
  if (hostBits(c) !== 0n) ctx.addIssue({ code: 'custom', message: `'${text}' has host bits set; did you mean ${canonical(c)}?` });
});

export const isIpv6Cidr = (text: string) => parseCidr(text)?.family === 6;
