/**
 * Finding-type patterns: `*` matches any run of characters and `?` one character; everything
 * else is literal, `:` and `/` included, and the whole type must match. Path-glob libraries treat
 * `/` as a separator (`*` would stop at `CryptoCurrency:EC2/`) and give meaning to `!`, `[`, `{`
 * and `.`, all of which occur in real finding types (`BitcoinTool.B!DNS`), so a tiny matcher is
 * the predictable choice.
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = [...pattern]
      .map((ch) => (ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${body}$`);
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

export function globMatch(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}
