import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import express from 'express';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { createHealth, type Health } from '../../../index';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { launchBrowser, type TestBrowser } from '../../helpers/browser';

/**
 * The "Model calls" panel in Debian's Chromium: the model calls an app made (fed to its recorder
 * as the GenAI hooks feed it) shown by provider and model, graded, live; hidden before any call.
 */
const TOKEN = 'm0del-Calls+page=';
const ARTIFACTS = path.resolve(__dirname, '../../../test-artifacts');

let health: Health;
let recorder: Recorder;
let server: http.Server;
let browser: TestBrowser | undefined;
let page: Page;
const pageErrors: string[] = [];

/** `n` calls of one model: `errors` of them failed, each streamed its first chunk after `firstChunkS`. */
function calls(provider: string, model: string, n: number, errors: number, firstChunkS: number): void {
  const series = recorder.modelCalls.series({ operation: 'chat', provider, requestModel: model, address: `api.${provider}.test`, port: 443 }, undefined);
  for (let i = 0; i < n; i++) recorder.modelCallEnded(series, 'chat', i < errors ? 'server_error' : undefined, firstChunkS + 0.5, firstChunkS, 10, 20);
}

/** The panel's rows as text: `data-upstream | status | cells…`. */
async function rows(): Promise<string[][]> {
  return page.$$eval('#upstream tbody tr', (trs) =>
    trs.map((tr) => [tr.getAttribute('data-upstream') ?? '', tr.getAttribute('data-status-value') ?? '', ...Array.from(tr.children).map((c) => c.textContent!.trim())]),
  );
}

beforeAll(async () => {
  recorder = new Recorder();
  health = await createHealth({ env: {}, recorder, logger: pino({ level: 'silent' }), config: { token: TOKEN, evaluationInterval: '200ms', minSamples: 5, rateLimits: {} } });
  const app = express();
  app.use(health.router);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  browser = await launchBrowser('chatpulse-ui-models-');
  page = browser.page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  void health?.close();
});

describe('status page: model calls', () => {
  it('is hidden before the app calls a model', async () => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await page.goto(`${origin}/api/v1/health/ui?token=${encodeURIComponent(TOKEN)}`);
    await page.locator('#conn[data-state="live"]').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await page.locator('#upstream-card').isHidden()).toBe(true);
  });

  it('shows each provider and model with its calls, errors, error rate and first chunk p50/p95, graded', async () => {
    // Over the live feed: the page was loaded before these calls.
    calls('openai', 'gpt-4o-mini', 40, 0, 0.3);
    // 1 in 10 failed (fail: over 5 %), and a first chunk over the 1.28 s warn threshold.
    calls('anthropic', 'claude-sonnet-4-5', 10, 1, 1.5);
    // Too few calls to grade.
    calls('openai', 'gpt-4.1', 2, 0, 0.2);
    await page.locator('#upstream tbody tr').nth(2).waitFor({ state: 'attached', timeout: 10_000 });
    expect(await page.locator('#upstream-card').isVisible()).toBe(true);
    const r = await rows();
    expect(r.map((x) => x.slice(0, 2))).toEqual([
      ['anthropic/claude-sonnet-4-5', 'fail'],
      ['openai/gpt-4.1', 'ungraded'],
      ['openai/gpt-4o-mini', 'pass'],
    ]);
    const [anthropic, gpt41, mini] = r as [string[], string[], string[]];
    // provider · model | status | calls | errors | error rate | p50 | p95 (histogram quantiles: within 1 %)
    expect(anthropic.slice(2, 7)).toEqual(['anthropic · claude-sonnet-4-5', '✖ Fail', '10', '1', '10%']);
    expect(anthropic[7]).toMatch(/^1\.(49|50|51) s$/);
    expect(anthropic[8]).toMatch(/^1\.(49|50|51) s$/);
    expect(gpt41.slice(2, 7)).toEqual(['openai · gpt-4.1', '– Not graded', '2', '0', '0%']);
    expect(mini.slice(2, 7)).toEqual(['openai · gpt-4o-mini', '✔ Pass', '40', '0', '0%']);
    expect(mini[7]).toMatch(/^(29[7-9]|30[0-3]) ms$/);
    // The same grade as the model:<provider> checks in the Checks table.
    expect(await page.locator('tr[data-check="model:anthropic"]').getAttribute('data-status-value')).toBe('fail');
    expect(await page.locator('tr[data-check="model:openai"]').getAttribute('data-status-value')).toBe('pass');
    expect(pageErrors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#upstream-card').screenshot({ path: path.join(ARTIFACTS, 'status-page-model-calls.png') });
  });

  it('fits a 375 px phone screen: the wide table scrolls inside its region, not the page', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(await page.locator('#upstream tbody tr').count()).toBe(3);
  });
});
