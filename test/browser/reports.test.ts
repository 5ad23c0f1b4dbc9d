/**
 * Both HTML reports as a reader's browser shows them: each is opened in headless Chromium
 * (Debian's package, installed by scripts/install-browser.sh), which must draw the SVG timeline
 * and make no network request at all (the page is one self-contained file under a CSP that
 * forbids fetches). A page that does fetch is caught, so the check can fail.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReport, renderReport } from '../../src/report/report.js';
import { cli, tempHome } from '../helpers/cli.js';

const CHROMIUM = process.env.FIREBREAK_CHROMIUM ?? '/usr/bin/chromium';
const HAVE = existsSync(CHROMIUM);
if (!HAVE) console.warn(`test/browser skipped: no Chromium at ${CHROMIUM} (run scripts/install-browser.sh)`);

const RUNS = join(import.meta.dirname, '../fixtures/journals/runs');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'fb-browser-'));

/** Open `file` and report what the page asked the network for, and what it drew. */
async function open(file: string, screenshot?: string) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  const timeline = await page.locator('svg.timeline').count();
  const lanes = await page.locator('svg.timeline g.lane').count();
  const box = await page.locator('svg.timeline').first().boundingBox();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  return { requests, timeline, lanes, width: box?.width ?? 0 };
}

describe.skipIf(!HAVE)('HTML reports in headless Chromium', () => {
  beforeAll(async () => {
    // Playwright gives each launch a fresh, temporary user-data-dir of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('the incident report draws its timeline and the path, and requests nothing', async () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReport(loadReport('20260301-021500-a1b2c3', { runsDir: RUNS }), 'html'));
    const r = await open(file, process.env.FIREBREAK_SCREENSHOTS ? join(process.env.FIREBREAK_SCREENSHOTS, 'report.png') : undefined);
    expect(r.requests).toEqual([]);
    expect(r.timeline).toBe(1);
    expect(r.lanes).toBeGreaterThanOrEqual(3);
    expect(r.width).toBeGreaterThan(600);
  });

  it('the after-action report draws its timeline, and requests nothing', async () => {
    const out = join(dir, 'exercise');
    const run = await cli(['tabletop', 'crypto-mining', '--auto', '--out', out], { home: tempHome() });
    expect(run.code, run.stderr).toBe(0);
    const r = await open(
      join(out, 'after-action.html'),
      process.env.FIREBREAK_SCREENSHOTS ? join(process.env.FIREBREAK_SCREENSHOTS, 'after-action.png') : undefined,
    );
    expect(r.requests).toEqual([]);
    expect(r.timeline).toBe(1);
    expect(r.lanes).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('would catch a page that fetches (the check can fail)', async () => {
    const file = join(dir, 'fetching.html');
    writeFileSync(file, '<!DOCTYPE html><svg class="timeline"></svg><img src="http://127.0.0.1:9/pixel.png">');
    const r = await open(file);
    expect(r.requests).toEqual(['http://127.0.0.1:9/pixel.png']);
  });
});
