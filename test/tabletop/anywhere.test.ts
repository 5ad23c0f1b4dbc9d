/** Shipped scenarios (and the routing table and playbooks they use) are found from any working folder, as shipped playbooks are. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempHome } from '../helpers/cli.js';

describe('firebreak tabletop NAME outside the checkout', () => {
  it('finds the shipped scenario, its routes and its playbooks', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fb-elsewhere-'));
    const r = await cli(['tabletop', 'crypto-mining', '--auto'], { home: tempHome(), cwd });
    expect(r.stderr).not.toMatch(/unknown scenario|does not exist/);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
});
