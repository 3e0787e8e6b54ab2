/**
 * The status page of `chatpulse serve` in a real browser (Debian's Chromium, playwright-core):
 * two instances under the hook, a REAL Prometheus scraping both, the fleet server reading it. The
 * page — never reloaded — shows the instances table and follows it live: both healthy, then one
 * instance's first token is slowed to 2.6 s at run time and its row turns unhealthy, then that
 * instance is killed and its row says missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, killAllChildren, sleep } from '../../fixtures/harness';
import { chat, startFleetInstance, type FleetInstance } from '../../helpers/fleet';
import { launchBrowser, requireChromium, type TestBrowser } from '../../helpers/browser';
import { startPrometheus, type TestPrometheus } from '../../helpers/prometheus';
import { CLI, REPO, ensureBuilt } from '../cli/cli-helpers';

const ARTIFACTS = path.join(REPO, 'test-artifacts');
const SERVICE = 'fleet-page-test';
const TOKEN = 'fl33t/Page+T0ken=';

let prom: TestPrometheus;
let a: FleetInstance;
let b: FleetInstance;
let serve: ChildProcess | undefined;
let serveOut = '';
let base: string;
let browser: TestBrowser | undefined;
let page: Page;
const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-fleet-ui-'));
const pageErrors: string[] = [];
const consoleProblems: string[] = [];
let navigations = 0;

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nserve:\n${serveOut.slice(-2000)}`);
    await sleep(100);
  }
}

/** The instances table as text, row by row: `id | status | p95 | streams | error rate`. */
async function rows(): Promise<string[][]> {
  return page.$$eval('#instances tbody tr', (trs) =>
    trs.map((tr) => [tr.getAttribute('data-instance') ?? '', tr.getAttribute('data-status-value') ?? '', ...Array.from(tr.querySelectorAll('td')).map((td) => td.textContent!.trim())]),
  );
}

beforeAll(async () => {
  requireChromium();
  ensureBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  [a, b] = await Promise.all([startFleetInstance(SERVICE, { FIRST_TOKEN_MS: '120' }), startFleetInstance(SERVICE, { FIRST_TOKEN_MS: '120' })]);
  prom = await startPrometheus({ targets: [a.target, b.target], scrapeInterval: '200ms' });
  for (const inst of [a, b]) {
    expect((await get(`http://127.0.0.1:${inst.controlPort}/prime`)).status).toBe(200);
    expect((await get(`http://127.0.0.1:${inst.appPort}/ping`)).status).toBe(200);
  }
  await until('both instances primed and scraped', 15_000, async () => Number((await prom.query(`count(chatbot_streams_total{service_name="${SERVICE}"})`))[0]?.value[1]) === 6);
  await sleep(600);
  await Promise.all([chat(a, 30), chat(b, 30)]);

  const config = path.join(dir, 'health.yaml');
  writeFileSync(config, 'evaluationInterval: 300ms\nhysteresis: 1\ndisabledKpis: [cpu]\nthresholds:\n  eventLoopDelay: { target: 0.1, warn: 1, fail: 2 }\n');
  serve = spawn(
    process.execPath,
    [CLI, 'serve', '--prometheus-url', prom.url, '--service', SERVICE, '--window', '1m', '--config', config, '--port', '0', '--host', '127.0.0.1', '--token', TOKEN],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  serve.stdout!.setEncoding('utf8').on('data', (d: string) => (serveOut += d));
  serve.stderr!.setEncoding('utf8').on('data', (d: string) => (serveOut += d));
  await until('chatpulse serve to listen', 10_000, async () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(serveOut));
  base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(serveOut)![1]!;

  browser = await launchBrowser('chatpulse-chromium-');
  page = browser.page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/content security policy|refused to/i.test(m.text())) consoleProblems.push(m.text());
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (serve !== undefined && serve.exitCode === null) {
    const exited = new Promise((r) => serve!.once('exit', r));
    serve.kill('SIGTERM');
    await Promise.race([exited, sleep(3000).then(() => serve!.kill('SIGKILL'))]);
  }
  await killAllChildren();
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 20_000);

describe('fleet status page in headless Chromium', () => {
  it('shows every instance with its status, first token p95, streams and error rate', async () => {
    await page.goto(`${base}/api/v1/health/ui?token=${encodeURIComponent(TOKEN)}`);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    await page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));
    await expect.poll(async () => (await rows()).length, { timeout: 10_000 }).toBe(2);
    expect(await page.isVisible('#instances')).toBe(true);
    await expect.poll(async () => (await rows()).map((r) => r[1]), { timeout: 10_000 }).toEqual(['healthy', 'healthy']);
    const r = await rows();
    expect(r.map((x) => x[0]).sort()).toEqual([a.target, b.target].sort());
    for (const [, , status, p95, streams, errorRate] of r) {
      expect(status).toMatch(/Healthy/);
      // 120 ms first tokens: the 0.1–0.25 s bucket, p95 = 0.1 + 0.15 × 0.95 s.
      expect(Math.abs(Number(/^([\d.]+) ms$/.exec(p95!)![1]) - 242.5)).toBeLessThanOrEqual(1);
      expect(Number(streams)).toBeGreaterThanOrEqual(30);
      expect(errorRate).toBe('0%');
    }
    expect(await page.textContent('#instances-hint')).toMatch(/^2 instances \(2 healthy\), each graded on its own over the 60 s window/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet-status-page-healthy.png'), fullPage: true });
  });

  it('turns the slowed instance unhealthy, live, worst first', async () => {
    expect((await get(`http://127.0.0.1:${b.controlPort}/latency?ms=2600`)).status).toBe(200);
    await chat(b, 30);
    await expect.poll(async () => (await rows())[0]?.slice(0, 2), { timeout: 15_000 }).toEqual([b.target, 'unhealthy']);
    const [slow, fast] = await rows();
    expect(slow![2]).toMatch(/Unhealthy/);
    // Half its samples at 120 ms, half at 2.6 s: its p95 lies in the 2.5–3 s bucket (2.95 s interpolated).
    const p95 = Number(/^([\d.]+) s$/.exec(slow![3]!)![1]);
    expect(p95).toBeGreaterThan(2.5);
    expect(p95).toBeLessThanOrEqual(3);
    expect(await page.locator(`#instances tr[data-instance="${b.target}"] .note`).textContent()).toMatch(/^timeToFirstToken: Time to first token \(p95\) \d+ms breaches ≤1000ms/);
    expect(fast!.slice(0, 2)).toEqual([a.target, 'healthy']);
    expect(await page.getAttribute('#overall', 'data-status')).toBe('unhealthy');
    expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet-status-page-unhealthy.png'), fullPage: true });
  });

  it('says missing for an instance that stopped reporting', async () => {
    b.app.proc.kill('SIGKILL');
    await expect.poll(async () => (await rows()).find((r) => r[0] === b.target)?.[1], { timeout: 15_000 }).toBe('missing');
    const row = (await rows()).find((r) => r[0] === b.target)!;
    expect(row[2]).toMatch(/Missing/);
    expect(await page.locator(`#instances tr[data-instance="${b.target}"] .note`).textContent()).toBe('reported within the window, nothing now');
    expect(await page.textContent('#instances-hint')).toMatch(/^2 instances \(1 missing, 1 healthy\)/);
    expect(navigations).toBe(1);
  });

  it('fits a 375 px phone screen, with no script error or CSP violation', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(400);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet-status-page-phone.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(consoleProblems).toEqual([]);
  });
});
