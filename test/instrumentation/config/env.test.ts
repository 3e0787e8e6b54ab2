/**
 * Configuration from the environment: defaults, every variable, metrics-specific overrides, bad
 * values (one problem each, naming the variable and the fallback), immutability; then the two
 * consumers: the zero-code hook (warns, carries on) and `start()` (throws ChatpulseConfigError).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { DEFAULT_IGNORED, describeProblem, parseOtlpHeaders, resolveConfig, type Env } from '../../../instrumentation/config/env';
import { DEFAULT_LIMITS } from '../../../instrumentation/metrics/recorder';
import { ChatpulseConfigError, start } from '../../../index';
import { currentRuntime } from '../../../instrumentation/runtime';
import { FIXTURES, REGISTER, canConnect, freePort, get, killAllChildren, scrape, sleep, spawnApp } from '../../fixtures/harness';

afterAll(killAllChildren);

describe('resolveConfig: defaults', () => {
  it('an empty environment gives the documented defaults and no problems', () => {
    const { config, problems } = resolveConfig({});
    expect(problems).toEqual([]);
    expect(config.disabled).toBe(false);
    expect(config.exporters).toEqual(['prometheus']);
    // The embedded default gives way to the app's own OpenTelemetry readers; an exporter asked for stays.
    expect(config.defaultExporter).toBe(true);
    expect(resolveConfig({ OTEL_METRICS_EXPORTER: 'prometheus' }).config.defaultExporter).toBe(false);
    expect(config.joinAppSdk).toBe(true);
    expect(config.discoverDependencies).toBe(true);
    expect(config.prometheus).toEqual({ host: 'localhost', port: 9464 });
    expect(config.otlp).toEqual({
      url: 'http://localhost:4318/v1/metrics',
      headers: {},
      protocol: 'http/protobuf',
      timeoutMillis: 10_000,
      compression: 'none',
      temporality: 'cumulative',
    });
    expect(config.exportIntervalMillis).toBe(60_000);
    expect(config.exportTimeoutMillis).toBe(30_000);
    expect([...config.sse.audio]).toEqual(['audio']);
    expect([...config.sse.error]).toEqual(['error']);
    // The keepalive and end markers of old, plus the control events frameworks send (DEFAULT_IGNORED's list).
    expect([...config.sse.ignored].sort()).toEqual([...DEFAULT_IGNORED].sort());
    for (const n of ['close', 'done', 'end', 'heartbeat', 'keep-alive', 'keepalive', 'ping', 'metadata', 'start', 'workflow_started']) {
      expect(config.sse.ignored.has(n), n).toBe(true);
    }
    expect(config.sse.format).toBe('auto');
    expect([...config.sse.tokenEvents]).toEqual([]);
    expect(config.sse.tokenField).toEqual([]);
    expect([...config.cachePrefixes].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'kb', prefix: 'kb:' },
      { name: 'tts', prefix: 'tts:' },
    ]);
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.shutdownTimeoutMillis).toBe(3000);
    expect(config.hooks).toEqual({ http: true, ioredis: true, pg: true, genai: true });
  });

  it('empty and blank values count as unset', () => {
    const { config, problems } = resolveConfig({ OTEL_EXPORTER_PROMETHEUS_PORT: '', OTEL_METRIC_EXPORT_INTERVAL: '   ', OTEL_METRICS_EXPORTER: ' ' });
    expect(problems).toEqual([]);
    expect(config.prometheus.port).toBe(9464);
    expect(config.exportIntervalMillis).toBe(60_000);
    expect(config.exporters).toEqual(['prometheus']);
  });
});

describe('resolveConfig: every variable', () => {
  it('parses each variable (trimmed, case-insensitive where the spec says so)', () => {
    const { config, problems } = resolveConfig({
      OTEL_SDK_DISABLED: 'TRUE',
      OTEL_METRICS_EXPORTER: ' OTLP , prometheus,console ',
      OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
      OTEL_EXPORTER_PROMETHEUS_PORT: ' 9999 ',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%2Cb%3Dc, x-tenant = acme ',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/JSON',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'LowMemory',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
      OTEL_METRIC_EXPORT_TIMEOUT: '5000',
      CHATPULSE_SSE_AUDIO_EVENTS: 'audio, tts_chunk',
      CHATPULSE_SSE_ERROR_EVENTS: 'error,failure',
      CHATPULSE_SSE_IGNORE_EVENTS: 'ping',
      CHATPULSE_CACHE_PREFIXES: 'kb=kb:, kbv2=kb:v2: ,tts=tts:',
      CHATPULSE_MAX_ROUTES: '50',
      CHATPULSE_MAX_SERIES: '500',
      CHATPULSE_SHUTDOWN_TIMEOUT: '0',
      CHATPULSE_INSTRUMENT_HTTP: 'false',
      CHATPULSE_INSTRUMENT_IOREDIS: '0',
      CHATPULSE_INSTRUMENT_PG: 'true',
      CHATPULSE_INSTRUMENT_GENAI: 'false',
      CHATPULSE_MAX_MODELS: '20',
    });
    expect(problems).toEqual([]);
    expect(config.disabled).toBe(true);
    expect([...config.exporters].sort()).toEqual(['console', 'otlp', 'prometheus']);
    expect(config.prometheus).toEqual({ host: '0.0.0.0', port: 9999 });
    expect(config.otlp).toEqual({
      url: 'https://collector.example:4318/v1/metrics',
      headers: { 'api-key': 'a,b=c', 'x-tenant': 'acme' },
      protocol: 'http/json',
      timeoutMillis: 2500,
      compression: 'gzip',
      temporality: 'lowmemory',
    });
    expect(config.exportIntervalMillis).toBe(15_000);
    expect(config.exportTimeoutMillis).toBe(5000);
    expect([...config.sse.audio]).toEqual(['audio', 'tts_chunk']);
    expect([...config.sse.error]).toEqual(['error', 'failure']);
    expect([...config.sse.ignored]).toEqual(['ping']);
    // Longest prefix first, so kb:v2: keys are not counted as kb.
    expect(config.cachePrefixes[0]).toEqual({ name: 'kbv2', prefix: 'kb:v2:' });
    expect(config.cachePrefixes.map((c) => c.name).sort()).toEqual(['kb', 'kbv2', 'tts']);
    expect(config.limits).toEqual({ maxRoutes: 50, maxSeriesPerMetric: 500, maxCaches: DEFAULT_LIMITS.maxCaches, maxModels: 20 });
    expect(config.shutdownTimeoutMillis).toBe(0);
    expect(config.hooks).toEqual({ http: false, ioredis: false, pg: true, genai: false });
  });

  it('OTEL_METRICS_EXPORTER=none means no exporter; an empty SSE list means no names', () => {
    const { config, problems } = resolveConfig({ OTEL_METRICS_EXPORTER: 'none', CHATPULSE_SSE_IGNORE_EVENTS: '' });
    expect(problems).toEqual([]);
    expect(config.exporters).toEqual([]);
    expect(config.sse.ignored.size).toBe(0);
  });

  it('OTEL_EXPORTER_OTLP_METRICS_* override the generic variables, which apply otherwise', () => {
    const generic: Env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'k=generic',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1111',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    };
    const g = resolveConfig(generic);
    expect(g.problems).toEqual([]);
    expect(g.config.otlp).toMatchObject({
      url: 'http://generic:4318/v1/metrics',
      headers: { k: 'generic' },
      protocol: 'http/json',
      timeoutMillis: 1111,
      compression: 'gzip',
    });
    const s = resolveConfig({
      ...generic,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://specific:4318/custom/path',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'k=specific',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2222',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none',
    });
    expect(s.problems).toEqual([]);
    expect(s.config.otlp).toMatchObject({
      // The metrics-specific endpoint is used as-is: no /v1/metrics appended.
      url: 'http://specific:4318/custom/path',
      headers: { k: 'specific' },
      protocol: 'http/protobuf',
      timeoutMillis: 2222,
      compression: 'none',
    });
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/metrics appended, with or without a trailing slash', () => {
    const url = (v: string) => resolveConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: v }).config.otlp.url;
    expect(url('http://collector:4318')).toBe('http://collector:4318/v1/metrics');
    expect(url('http://collector:4318/')).toBe('http://collector:4318/v1/metrics');
    expect(url('http://collector:4318//')).toBe('http://collector:4318/v1/metrics');
    expect(url('https://gw.example/otlp/')).toBe('https://gw.example/otlp/v1/metrics');
    expect(url('https://gw.example/otlp')).toBe('https://gw.example/otlp/v1/metrics');
  });

  it('parseOtlpHeaders: percent-decoding, skipped empty parts, and errors', () => {
    expect(parseOtlpHeaders('a=1,,b=x%20y')).toEqual({ a: '1', b: 'x y' });
    expect(parseOtlpHeaders('a=b=c')).toEqual({ a: 'b=c' });
    expect(typeof parseOtlpHeaders('novalue')).toBe('string');
    expect(typeof parseOtlpHeaders('=v')).toBe('string');
    expect(typeof parseOtlpHeaders('k=%E0%A4%A')).toBe('string');
  });
});

describe('resolveConfig: bad values', () => {
  const cases: { variable: string; value: string; fallback: string; check: (c: ReturnType<typeof resolveConfig>['config']) => void }[] = [
    { variable: 'OTEL_EXPORTER_PROMETHEUS_PORT', value: 'abc', fallback: '9464', check: (c) => expect(c.prometheus.port).toBe(9464) },
    { variable: 'OTEL_EXPORTER_PROMETHEUS_PORT', value: '65536', fallback: '9464', check: (c) => expect(c.prometheus.port).toBe(9464) },
    { variable: 'OTEL_METRIC_EXPORT_INTERVAL', value: '-5', fallback: '60000', check: (c) => expect(c.exportIntervalMillis).toBe(60_000) },
    { variable: 'OTEL_METRIC_EXPORT_INTERVAL', value: '1.5', fallback: '60000', check: (c) => expect(c.exportIntervalMillis).toBe(60_000) },
    { variable: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'grpc', fallback: 'http/protobuf', check: (c) => expect(c.otlp.protocol).toBe('http/protobuf') },
    { variable: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'thrift', fallback: 'http/protobuf', check: (c) => expect(c.otlp.protocol).toBe('http/protobuf') },
    // Per-signal variables are reported under their own name.
    { variable: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', value: 'grpc', fallback: 'http/protobuf', check: (c) => expect(c.otlp.protocol).toBe('http/protobuf') },
    // An unknown exporter is skipped (the spec's behaviour); alone, that leaves none.
    { variable: 'OTEL_METRICS_EXPORTER', value: 'zipkin', fallback: 'skipped', check: (c) => expect(c.exporters).toEqual([]) },
    { variable: 'OTEL_METRICS_EXPORTER', value: 'prometheus,zipkin', fallback: 'skipped', check: (c) => expect(c.exporters).toEqual(['prometheus']) },
    { variable: 'OTEL_EXPORTER_OTLP_HEADERS', value: 'novalue', fallback: 'no headers', check: (c) => expect(c.otlp.headers).toEqual({}) },
    { variable: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', value: 'a=1,novalue', fallback: 'no headers', check: (c) => expect(c.otlp.headers).toEqual({}) },
    {
      variable: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
      value: 'sometimes',
      fallback: 'cumulative',
      check: (c) => expect(c.otlp.temporality).toBe('cumulative'),
    },
    {
      variable: 'CHATPULSE_CACHE_PREFIXES',
      value: 'kb',
      fallback: 'kb=kb:,tts=tts:',
      check: (c) => expect(c.cachePrefixes.map((p) => p.name).sort()).toEqual(['kb', 'tts']),
    },
    { variable: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'collector:4318', fallback: 'http://localhost:4318', check: (c) => expect(c.otlp.url).toBe('http://localhost:4318/v1/metrics') },
    { variable: 'OTEL_SDK_DISABLED', value: 'yes', fallback: 'false', check: (c) => expect(c.disabled).toBe(false) },
    { variable: 'CHATPULSE_SHUTDOWN_TIMEOUT', value: '5s', fallback: '3000', check: (c) => expect(c.shutdownTimeoutMillis).toBe(3000) },
    { variable: 'OTEL_EXPORTER_OTLP_COMPRESSION', value: 'brotli', fallback: 'none', check: (c) => expect(c.otlp.compression).toBe('none') },
    { variable: 'CHATPULSE_STREAM_FORMAT', value: 'openai', fallback: 'auto', check: (c) => expect(c.sse.format).toBe('auto') },
    { variable: 'CHATPULSE_TOKEN_FIELD', value: 'choices..delta', fallback: 'the detected format', check: (c) => expect(c.sse.tokenField).toEqual([]) },
  ];
  for (const c of cases) {
    it(`${c.variable}=${JSON.stringify(c.value)}: exactly one problem naming the variable and "${c.fallback}"`, () => {
      const { config, problems } = resolveConfig({ [c.variable]: c.value });
      expect(problems).toHaveLength(1);
      const p = problems[0]!;
      expect(p.variable).toBe(c.variable);
      expect(p.fallback).toBe(c.fallback);
      const line = describeProblem(p);
      expect(line).toContain(c.variable);
      expect(line).toContain(`using ${c.fallback}`);
      c.check(config);
    });
  }

  it('a header value is never echoed in the problem (it may be a secret)', () => {
    const { problems } = resolveConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t,broken' });
    expect(problems).toHaveLength(1);
    expect(describeProblem(problems[0]!)).not.toContain('s3cr3t');
  });

  it('an invalid metrics endpoint falls back to the generic one, and the problem says so', () => {
    const { config, problems } = resolveConfig({
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://nope',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4318',
    });
    expect(config.otlp.url).toBe('http://generic:4318/v1/metrics');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.variable).toBe('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
    // The warning must name the URL actually used.
    expect(problems[0]!.fallback).toBe(config.otlp.url);
  });

  it('several bad values give one problem each', () => {
    const { problems } = resolveConfig({
      OTEL_EXPORTER_PROMETHEUS_PORT: 'abc',
      OTEL_METRIC_EXPORT_INTERVAL: '-5',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_METRICS_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_HEADERS: 'novalue',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes',
      CHATPULSE_CACHE_PREFIXES: 'kb',
    });
    expect(problems.map((p) => p.variable).sort()).toEqual(
      [
        'CHATPULSE_CACHE_PREFIXES',
        'OTEL_EXPORTER_OTLP_HEADERS',
        'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
        'OTEL_EXPORTER_OTLP_PROTOCOL',
        'OTEL_EXPORTER_PROMETHEUS_PORT',
        'OTEL_METRICS_EXPORTER',
        'OTEL_METRIC_EXPORT_INTERVAL',
      ].sort(),
    );
  });
});

describe('resolveConfig: immutability', () => {
  function walk(value: unknown, at: string, visit: (v: object, at: string) => void): void {
    if (value === null || typeof value !== 'object') return;
    visit(value, at);
    if (value instanceof Set) return;
    for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`, visit);
  }

  it('every object and array in the config is frozen', () => {
    const { config } = resolveConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1', CHATPULSE_CACHE_PREFIXES: 'kb=kb:' });
    let objects = 0;
    walk(config, 'config', (v, at) => {
      if (v instanceof Set) return;
      objects++;
      expect(Object.isFrozen(v), `${at} is frozen`).toBe(true);
    });
    expect(objects).toBeGreaterThanOrEqual(9);
    expect(() => {
      (config.otlp as { url: string }).url = 'http://evil';
    }).toThrow(TypeError);
    expect(() => {
      (config.cachePrefixes as unknown as { name: string }[]).push({ name: 'x' });
    }).toThrow(TypeError);
  });

  it('the SSE event-name sets cannot be changed through the config either', () => {
    const { config } = resolveConfig({});
    for (const set of [config.sse.audio, config.sse.error, config.sse.ignored]) {
      const before = [...set];
      try {
        (set as Set<string>).add('tampered');
      } catch {
        // refusing is fine
      }
      try {
        (set as Set<string>).clear();
      } catch {
        // refusing is fine
      }
      expect([...set]).toEqual(before);
    }
  });
});

describe('start(): configuration errors throw', () => {
  it('throws ChatpulseConfigError naming the bad variable, and starts nothing', () => {
    let err: unknown;
    try {
      start({ env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChatpulseConfigError);
    const e = err as ChatpulseConfigError;
    expect(e.code).toBe('CHATPULSE_ERR_CONFIG');
    expect(e.name).toBe('ChatpulseConfigError');
    expect(e.variables).toEqual(['OTEL_EXPORTER_PROMETHEUS_PORT']);
    expect(e.message).toContain('OTEL_EXPORTER_PROMETHEUS_PORT');
    expect(e.message).toContain('9464');
    expect(currentRuntime()).toBeUndefined();
  });

  it('names every bad variable', () => {
    expect(() => start({ env: { OTEL_METRIC_EXPORT_INTERVAL: '-5', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } })).toThrow(
      expect.objectContaining({
        variables: expect.arrayContaining(['OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_EXPORTER_OTLP_PROTOCOL']),
      }) as Error,
    );
    expect(currentRuntime()).toBeUndefined();
  });
});

describe('the zero-code hook with bad or disabling variables (child process)', () => {
  const APP = path.join(FIXTURES, 'sse-app.js');

  it('OTEL_EXPORTER_PROMETHEUS_PORT=abc: exactly one warning line naming it and 9464; the app runs', async () => {
    // Exporter none: the test must not depend on port 9464 being free on this machine.
    const app = await spawnApp({
      nodeArgs: ['--require', REGISTER],
      script: APP,
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc', OTEL_METRICS_EXPORTER: 'none', TOKEN_DELAY_MS: '10' },
    });
    const r = await get(`http://127.0.0.1:${app.port}/chat`);
    expect(r.body).toContain('[DONE]');
    await sleep(100);
    const lines = app.stderr().split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[chatpulse\] warning: /);
    expect(lines[0]).toContain('OTEL_EXPORTER_PROMETHEUS_PORT');
    expect(lines[0]).toContain('"abc"');
    expect(lines[0]).toContain('9464');
    expect(app.proc.exitCode).toBeNull();
  });

  it('OTEL_SDK_DISABLED=true: no metrics port is opened (and without it, one is)', async () => {
    const port = await freePort();
    const env = { OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', TOKEN_DELAY_MS: '10' };
    const disabled = await spawnApp({ nodeArgs: ['--require', REGISTER], script: APP, env: { ...env, OTEL_SDK_DISABLED: 'true' } });
    expect((await get(`http://127.0.0.1:${disabled.port}/chat`)).body).toContain('[DONE]');
    await sleep(300);
    expect(await canConnect('127.0.0.1', port)).toBe(false);
    expect(disabled.stderr()).toBe('');
    disabled.proc.kill('SIGTERM');
    await disabled.waitExit(3000);

    const enabled = await spawnApp({ nodeArgs: ['--require', REGISTER], script: APP, env });
    expect(await scrape(`http://127.0.0.1:${port}/metrics`)).toContain('target_info');
    enabled.proc.kill('SIGTERM');
    await enabled.waitExit(3000);
  });
});
