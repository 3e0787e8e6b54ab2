import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Page } from 'playwright-core';
import { createHealth, type Health, type HealthCheck } from '../../../index';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { launchBrowser, type TestBrowser } from '../../helpers/browser';

/** The app's own checks on the live status page, in Debian's Chromium, as the built-in checks are shown. */
const TOKEN = 'custom-Checks+page=';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const CHECKS = require('../../fixtures/health-checks/checks.js') as HealthCheck[];

let health: Health;
let server: http.Server;
let browser: TestBrowser | undefined;
let page: Page;

beforeAll(async () => {
  health = await createHealth({ env: {}, checks: CHECKS, recorder: new Recorder(), config: { token: TOKEN, evaluationInterval: '200ms', minSamples: 1000, rateLimits: {} } });
  const app = express();
  app.use(health.router);
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  browser = await launchBrowser('chatpulse-ui-custom-');
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  void health?.close();
});

describe('status page with the app’s own checks', () => {
  it('shows each check with its grade, live, and no secret', async () => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await page.goto(`${origin}/api/v1/health/ui?token=${encodeURIComponent(TOKEN)}`);
    await page.locator('tr[data-check="auth"]').waitFor({ state: 'attached', timeout: 10_000 });
    const status = (name: string) => page.locator(`tr[data-check="${name}"]`).getAttribute('data-status-value');
    // The hung check is graded fail at its timeout (over the live feed if the page loaded first).
    await expect.poll(() => status('mcp'), { timeout: 5000 }).toBe('fail');
    expect(await status('auth')).toBe('pass');
    expect(await status('parlant')).toBe('warn');
    expect(await status('game')).toBe('fail');
    expect(await page.locator('tr[data-check="mcp"]').textContent()).toMatch(/mcp \(optional\).*timed out after 500 ms/);
    const text = (await page.locator('body').textContent())!;
    expect(text).toContain('postgres://game:***@10.0.0.7');
    for (const secret of ['Hunter2Pw', 'gh-oauth-s3cr3t', 'issuerPw9']) expect(text).not.toContain(secret);
  });
});
