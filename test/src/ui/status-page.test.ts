import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, requireChromium, type TestBrowser } from '../../helpers/browser';
import { closedPort, ToggleProxy } from '../../helpers/net';
import { QUICK_SAMPLE_ENV } from '../../helpers/sample-app';

/**
 * The live status page in a real browser: Debian's Chromium driven by playwright-core, against
 * the sample backend under `--require chatpulse/register` with the health service on its own
 * port and CHATPULSE_HEALTH_TOKEN set. The test injects LLM latency at run time (a preloaded knob,
 * fixtures/latency-knob.js) and watches the page — never reloaded — follow the SSE feed.
 * Screenshots go to test-artifacts/ (git-ignored).
 */
const ROOT = path.resolve(__dirname, '../../..');
const REGISTER = path.join(ROOT, 'dist/instrumentation/register.js');
const SERVER = path.join(ROOT, 'examples/chatbot/server.js');
const KNOB = path.join(__dirname, 'fixtures/latency-knob.js');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
// Characters that must survive URL encoding, like a real generated token.
const TOKEN = 'st4tus/Page+T0ken=';
const SLOW_FIRST_TOKEN_MS = 1300; // p95 above the 1 s warn threshold, under the 2 s fail: degraded

const traffic = require('../../../examples/chatbot/traffic.js') as {
  driveTraffic(o: Record<string, unknown>): Promise<unknown>;
};

const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-ui-'));
const configFile = path.join(dir, 'health.yaml');
writeFileSync(
  configFile,
  [
    'window: 6s',
    'evaluationInterval: 200ms',
    'minSamples: 5',
    'hysteresis: 1',
    // The sample keeps its history in the local Postgres; the health service does not check it,
    // so alerts stay in memory (nothing shared with other tests).
    'database: false',
    // CPU and event-loop delay follow the machine's load (other test files run in parallel), not this test.
    'disabledKpis: [cpu]',
    'thresholds:',
    '  eventLoopDelay: { target: 0.1, warn: 1, fail: 2 }',
    // Caches are cold at start: shown, never failing.
    '  kbCacheHitRate: { target: 0, warn: 0, fail: 0 }',
    '  ttsCacheHitRate: { target: 0, warn: 0, fail: 0 }',
    'alerts:',
    '  evaluationInterval: 250ms',
  ].join('\n'),
);

interface App {
  child: ChildProcess;
  port: number;
  healthPort: number;
  stderr: () => string;
}

let app: App | undefined;
let proxy: ToggleProxy | undefined;
let browser: TestBrowser | undefined;
let page: Page;
let origin: string;
let trafficStop: AbortController | undefined;
let trafficDone: Promise<unknown> | undefined;
const consoleProblems: string[] = [];
const pageErrors: string[] = [];
const foreignRequests: string[] = [];
let navigations = 0;

async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = app === undefined ? '' : `\napp exit code ${app.child.exitCode}, stderr:\n${app.stderr().slice(-3000)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
}

async function api(p: string, init: RequestInit = {}, token: string | null = TOKEN): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  const res = await fetch(`http://127.0.0.1:${app!.healthPort}${p}`, { ...init, headers });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the page, an asset
  }
  return { status: res.status, body, headers: res.headers, text };
}

function setLatency(ms: number | null): void {
  app!.child.send({ llmFirstTokenMs: ms, llmFirstTokenJitterMs: ms === null ? null : 20 });
}

/** Waits for a selector, with the page's connection state in the error. */
async function see(selector: string, timeout = 15_000): Promise<void> {
  try {
    await page.waitForSelector(selector, { timeout, state: 'attached' });
  } catch (err) {
    const conn = await page.textContent('#conn').catch(() => '?');
    const overall = await page.textContent('#overall').catch(() => '?');
    throw new Error(`${(err as Error).message}\npage: overall "${overall?.trim()}", connection "${conn?.trim()}"`);
  }
}

beforeAll(async () => {
  requireChromium();
  if (!existsSync(path.join(ROOT, 'dist/src/ui/routes.js'))) throw new Error('dist/src/ui is missing: run npm run build (npm test does)');
  mkdirSync(ARTIFACTS, { recursive: true });

  const port = await closedPort();
  const healthPort = await closedPort();
  let err = '';
  const child = spawn(process.execPath, ['--require', REGISTER, '--require', KNOB, SERVER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      CHATPULSE_HEALTH_PORT: String(healthPort),
      CHATPULSE_HEALTH_HOST: '127.0.0.1',
      CHATPULSE_HEALTH_CONFIG: configFile,
      CHATPULSE_HEALTH_RATE_LIMITS: 'off',
      CHATPULSE_HEALTH_TOKEN: TOKEN,
      CHATPULSE_ALERT_INTERVAL: '250ms',
      OTEL_SERVICE_NAME: 'status-page-test',
      OTEL_METRICS_EXPORTER: 'none',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `status-page-test-${process.pid}:`,
      ...QUICK_SAMPLE_ENV,
      TTS_ERROR_RATE: '0',
      TTS_FIRST_AUDIO_MS: '30',
      TTS_FIRST_AUDIO_JITTER_MS: '5',
      TTS_CHUNK_INTERVAL_MS: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  app = { child, port, healthPort, stderr: () => err };
  await until(async () => (await fetch(`http://127.0.0.1:${healthPort}/api/v1/health/live`)).ok, 15_000, 'the health port');
  await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 15_000, 'the app port');

  trafficStop = new AbortController();
  trafficDone = traffic
    .driveTraffic({ baseUrl: `http://127.0.0.1:${port}`, rps: 20, durationMs: 0, concurrency: 60, audioRatio: 0.3, abortRatio: 0, invalidRatio: 0, signal: trafficStop.signal })
    .catch(() => undefined);
  // Healthy with the latency KPIs graded (enough samples in the window).
  await until(async () => {
    const r = await api('/api/v1/health');
    const ttft = r.body?.services?.streaming?.checks?.timeToFirstToken;
    return r.body?.status === 'healthy' && ttft !== undefined && ttft.graded !== false;
  }, 20_000, 'healthy with graded KPIs');

  // The browser talks to the health port through a proxy the test can cut (reconnect test).
  proxy = await new ToggleProxy(healthPort).up();
  origin = `http://127.0.0.1:${proxy.port}`;
  browser = await launchBrowser('chatpulse-chromium-');
  const context = browser.context;
  // Injected by the DevTools protocol, not by the page: the page's CSP still applies to the page.
  await context.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page = browser.page;
  page.on('console', (m) => {
    if (/content security policy|refused to/i.test(m.text())) consoleProblems.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(`${origin}/`) && !u.startsWith('data:')) foreignRequests.push(u);
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  trafficStop?.abort();
  await Promise.race([trafficDone, new Promise((r) => setTimeout(r, 3000))]);
  if (app !== undefined && app.child.exitCode === null) {
    app.child.kill('SIGKILL');
    await new Promise((r) => app!.child.once('exit', r));
  }
  await proxy?.down();
  rmSync(dir, { recursive: true, force: true });
}, 20_000);

describe('live status page in headless Chromium', () => {
  it('serves the page with the token, its assets and stream with a short-lived ticket only', async () => {
    expect((await api('/api/v1/health/ui', {}, null)).status).toBe(401);
    expect((await api(`/api/v1/health/ui?token=wrong`, {}, null)).status).toBe(401);
    expect((await api('/api/v1/health/ui', {}, 'wrong')).status).toBe(401);
    const viaHeader = await api('/api/v1/health/ui');
    expect(viaHeader.status).toBe(200);
    const r = await api(`/api/v1/health/ui?token=${encodeURIComponent(TOKEN)}`, {}, null);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('cache-control')).toBe('no-store');
    // Nothing inline, nothing from elsewhere, and the token is in no subresource URL.
    expect(r.text).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(r.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(r.text).not.toMatch(/https?:\/\//);
    expect(r.text).not.toContain(TOKEN);
    expect(r.text).not.toContain(encodeURIComponent(TOKEN));
    const ticket = /name="chatpulse-ticket" content="([^"]+)"/.exec(r.text)![1]!;

    expect((await api('/api/v1/health/ui/app.js', {}, null)).status).toBe(401);
    const js = await api(`/api/v1/health/ui/app.js?ticket=${ticket}`, {}, null);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^application\/javascript/);
    const css = await api(`/api/v1/health/ui/app.css?ticket=${ticket}`, {}, null);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const forged = `${ticket.slice(0, -2)}${ticket.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await api(`/api/v1/health/ui/app.css?ticket=${forged}`, {}, null)).status).toBe(401);

    expect((await api('/api/v1/health/stream', {}, null)).status).toBe(401);
    expect((await api(`/api/v1/health/stream?ticket=${forged}`, {}, null)).status).toBe(401);
    expect((await api('/api/v1/health/stream/ticket', { method: 'POST' }, null)).status).toBe(401);
    const fresh = await api('/api/v1/health/stream/ticket', { method: 'POST' });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ ticket: expect.any(String), stream: '/api/v1/health/stream' });
    expect(Date.parse(fresh.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);

    // The stream with a ticket: SSE headers, retry, a full snapshot.
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${app!.healthPort}/api/v1/health/stream?ticket=${encodeURIComponent(fresh.body.ticket)}`, { signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!/\nevent: snapshot\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended early: ${text.slice(0, 200)}`);
      text += decoder.decode(value, { stream: true });
    }
    ac.abort();
    expect(text).toMatch(/^retry: \d+\n\n/);
    const data = JSON.parse(/\nevent: snapshot\ndata: (.*)\n\n/.exec(text)![1]!);
    expect(data).toMatchObject({ v: 1, service: 'status-page-test', status: 'healthy', alerts: { available: true } });
    // Chatpulse's own stream is not a chatbot stream: the page's feed never shows in the stream events.
    expect(JSON.stringify(data.events)).not.toContain('/api/v1/health/stream');
  });

  it('shows the service healthy and live: checks with value and threshold, charts, caches, events', async () => {
    await page.goto(`${origin}/api/v1/health/ui?token=${encodeURIComponent(TOKEN)}`);
    await see('#conn[data-state="live"]');
    await see('#overall[data-status="healthy"]');
    expect((await page.textContent('#overall'))!.trim()).toMatch(/Healthy/);
    await page.evaluate(() => ((window as unknown as { __notReloaded: boolean }).__notReloaded = true));

    const ttft = page.locator('tr[data-check="timeToFirstToken"]');
    await expect.poll(() => ttft.getAttribute('data-status-value'), { timeout: 10_000 }).toBe('pass');
    expect(await ttft.textContent()).toMatch(/Time to first token \(p95\).*Pass.*\d+(\.\d+)?ms.*≤1000ms \(fail >2000ms\)/);
    expect(await page.locator('tr[data-check="redis"]').textContent()).toMatch(/redis \(optional\).*Pass/);
    // Every status word is there, not only its colour.
    const badges = await page.locator('#checks .badge').allTextContents();
    expect(badges.length).toBeGreaterThan(8);
    for (const b of badges) expect(b).toMatch(/Pass|Warn|Fail|Not graded/);
    // p50, p95, p99 drawn for the three latencies, and the stream rate.
    await expect.poll(() => page.locator('#chart-firstToken path.s-p95').count(), { timeout: 10_000 }).toBe(1);
    for (const c of ['firstToken', 'firstAudio', 'complete']) {
      expect(await page.locator(`#chart-${c} path`).count()).toBe(3);
      expect(await page.locator(`#chart-${c} svg`).getAttribute('aria-label')).toMatch(/p50 .* p95 .* p99 /);
    }
    expect(await page.locator('#chart-streamRate path.s-rate').count()).toBe(1);
    await see('#caches tr[data-cache="kb"]');
    // The sample's LLM is simulated in-process: no model calls, so no "Model calls" panel.
    expect(await page.locator('#upstream-card').isHidden()).toBe(true);
    expect(await page.locator('#events tbody tr').count()).toBeGreaterThan(0);
    // The count in the overview is the alerts listed (none about latency yet).
    const open = await page.locator('#alerts-firing tbody tr, #alerts-acknowledged tbody tr').count();
    expect(await page.textContent('#fact-alerts')).toBe(String(open));
    expect((await page.locator('#alerts-firing, #alerts-acknowledged').allTextContents()).join(' ')).not.toContain('kpi-timeToFirstToken');
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-healthy.png'), fullPage: true });
  });

  it('turns degraded without a reload when LLM latency is injected, and an alert fires', async () => {
    setLatency(SLOW_FIRST_TOKEN_MS);
    await see('#overall[data-status="degraded"]');
    expect((await page.textContent('#overall'))!.trim()).toMatch(/Degraded/);
    expect(await page.locator('tr[data-check="timeToFirstToken"]').getAttribute('data-status-value')).toBe('warn');
    const row = (await page.locator('tr[data-check="timeToFirstToken"]').textContent())!;
    expect(row).toMatch(/\d+ms breaches ≤1000ms \(fail >2000ms\)/);
    expect(row).toContain('Warn');
    await see('#alerts-firing tr[data-alert-id]');
    expect(await page.locator('#alerts-firing').textContent()).toContain('kpi-timeToFirstToken-warn');
    // The same document all along: the SSE feed did it.
    expect(await page.evaluate(() => (window as unknown as { __notReloaded?: boolean }).__notReloaded)).toBe(true);
    expect(navigations).toBe(1);
  });

  it('acknowledges the alert from the keyboard (Tab, Enter) and resolves it with a click, through the alerts API', async () => {
    const row = page.locator('#alerts-firing tr', { hasText: 'kpi-timeToFirstToken-warn' }).first();
    const id = (await row.getAttribute('data-alert-id'))!;
    expect(id).toBeTruthy();

    // Keyboard only: from the alerts heading, Tab to this alert's Acknowledge button.
    await page.focus('#alerts-h');
    const focused = () => page.evaluate(() => `${document.activeElement?.getAttribute('data-action')}:${document.activeElement?.getAttribute('data-alert-id')}`);
    let tabs = 0;
    while ((await focused()) !== `acknowledge:${id}`) {
      expect(++tabs, 'Tab presses to reach the Acknowledge button').toBeLessThan(40);
      await page.keyboard.press('Tab');
    }
    // The focused button has a visible focus ring.
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    await see(`#alerts-acknowledged tr[data-alert-id="${id}"]`);
    expect(await page.locator(`#alerts-firing tr[data-alert-id="${id}"]`).count()).toBe(0);
    expect(await page.locator(`#alerts-acknowledged tr[data-alert-id="${id}"]`).textContent()).toContain('by status page');
    expect(await page.textContent('#alert-msg')).toMatch(/^Acknowledged/);
    // Focus followed the alert to its Resolve button.
    await expect.poll(focused, { timeout: 5000 }).toBe(`resolve:${id}`);
    let stored = await api(`/api/v1/health/alerts/${id}`);
    expect(stored.body.alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'status page' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-degraded.png'), fullPage: true });

    await page.click(`#alerts-acknowledged button[data-action="resolve"][data-alert-id="${id}"]`);
    await see(`#alerts-resolved tr[data-alert-id="${id}"]`);
    expect(await page.locator(`#alerts-acknowledged tr[data-alert-id="${id}"]`).count()).toBe(0);
    stored = await api(`/api/v1/health/alerts/${id}`);
    expect(stored.body.alert).toMatchObject({ status: 'resolved', resolvedBy: 'status page', resolution: 'manual' });
    expect(stored.body.transitions.map((t: { to: string }) => t.to)).toEqual(['firing', 'acknowledged', 'resolved']);
  });

  it('returns to healthy when the latency goes back to normal', async () => {
    setLatency(null);
    await see('#overall[data-status="healthy"]', 20_000);
    expect(await page.locator('tr[data-check="timeToFirstToken"]').getAttribute('data-status-value')).toBe('pass');
    // The alert that fired again after the manual resolve resolves itself.
    await expect.poll(() => page.locator('#alerts-firing tr[data-alert-id], #alerts-acknowledged tr[data-alert-id]').count(), { timeout: 15_000 }).toBe(0);
    expect(navigations).toBe(1);
  });

  it('reconnects by itself when the connection drops', async () => {
    await proxy!.down();
    await see('#conn[data-state="reconnecting"]');
    const before = await page.textContent('#updated');
    await new Promise((r) => setTimeout(r, 500));
    await proxy!.up();
    await see('#conn[data-state="live"]', 20_000);
    await expect.poll(() => page.textContent('#updated'), { timeout: 5000 }).not.toBe(before);
    expect(navigations).toBe(1);
  });

  it('fits a 375 px phone screen and respects reduced motion', async () => {
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    const animation = () => page.evaluate(() => getComputedStyle(document.querySelector('#conn .dot')!).animationName);
    expect(await animation()).toBe('pulse');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await animation()).toBe('none');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(400); // the charts redraw at the new width
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // Queried and measured in one evaluation: the charts are redrawn at every snapshot.
    const chartWidth = await page.evaluate(() => document.querySelector('#chart-firstToken svg')!.getBoundingClientRect().width);
    expect(chartWidth).toBeLessThanOrEqual(375);
    expect(chartWidth).toBeGreaterThan(250);
    await see('#overall[data-status="healthy"]');
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
  });

  it('renders an alert summary containing markup as text, never as markup', async () => {
    const summary = '<img src=x onerror="window.__xss=1"><b>bold</b> & <script>window.__xss=2</script>';
    const r = await api('/api/v1/health/alerts/alertmanager', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4', groupKey: '{}:{alertname="Markup"}', truncatedAlerts: 0, status: 'firing', receiver: 'chatpulse', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am',
        alerts: [{ status: 'firing', labels: { alertname: 'Markup<i>x</i>', severity: 'warning' }, annotations: { summary }, startsAt: new Date().toISOString(), endsAt: '0001-01-01T00:00:00Z', fingerprint: 'markup0000000001' }],
      }),
    });
    expect(r.status).toBe(200);
    const row = page.locator('#alerts-firing tr[data-alert-id]', { hasText: 'bold' }).first();
    await row.waitFor({ state: 'attached', timeout: 15_000 });
    expect(await row.textContent()).toContain('<b>bold</b>');
    expect(await page.locator('#alerts-firing img, #alerts-firing b, #alerts-firing script, #alerts-firing i').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await api(`/api/v1/health/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'resolve', ids: [await row.getAttribute('data-alert-id')] }) });
  });

  it('renders a route name containing markup as text in the stream events', async () => {
    const route = '/api/<img src=x onerror="window.__xss=3"><b>room</b>';
    app!.child.send({ manualStream: route });
    const row = page.locator('#events tbody tr', { hasText: '<b>room</b>' }).first();
    await row.waitFor({ state: 'attached', timeout: 15_000 });
    expect(await row.textContent()).toContain(route);
    expect(await page.locator('#events img, #events b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('ran with no CSP violation, no script error and no request outside the health service', async () => {
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(consoleProblems).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
