'use strict';

// The demo: starts the sample chatbot with Chatpulse loaded from the outside
// (node --require chatpulse/register examples/chatbot/server.js — the app itself is untouched),
// drives traffic at it and says where to look. Runs until Ctrl-C, or for --duration seconds.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { parseArgs } = require('node:util');
const { setTimeout: sleep } = require('node:timers/promises');
const { driveTraffic, formatSummary } = require('./traffic');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SERVER = path.join(__dirname, 'server.js');
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const PROGRESS_INTERVAL_MS = 15_000;

const USAGE = `usage: node examples/chatbot/run.js [--duration SECONDS] [--rps N]
  --duration S   seconds of traffic, then stop and exit (default 0 = until Ctrl-C)
  --rps N        mean requests per second of the built-in traffic driver (default 2)
environment: PORT (default 3000), CHATPULSE_HEALTH_PORT (default 9465), OTEL_SERVICE_NAME (default chatbot),
  CHATPULSE_REGISTER (register module to preload, default chatpulse/register),
  and every knob of server.js (see README.md)`;

const log = (message) => console.log(`run: ${message}`);

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '0' },
      rps: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const durationS = Number(values.duration);
  const rps = Number(values.rps);
  if (!(durationS >= 0)) throw new RangeError(`--duration must be a number of seconds >= 0, got ${values.duration}`);
  if (!(rps > 0)) throw new RangeError(`--rps must be > 0, got ${values.rps}`);
  return { help: values.help, durationMs: durationS * 1000, rps };
}

/** Absolute path of the register module, resolved like `--require` would from the working directory. */
function resolveRegister(request) {
  try {
    // 'chatpulse/register' resolves through the package's self-reference (package.json "exports").
    return require.resolve(request, { paths: [process.cwd()] });
  } catch {
    return null;
  }
}

async function waitUntilHealthy(url, signal) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]) });
      if (res.ok) return;
    } catch (err) {
      if (signal.aborted) throw err;
      // not listening yet
    }
    await sleep(200, undefined, { signal });
  }
  throw new Error(`no answer from ${url} within ${READY_TIMEOUT_MS / 1000} s`);
}

function printBanner({ appUrl, metricsPort, healthPort, rps, durationMs }) {
  const ask = JSON.stringify({ message: 'How do I reset my password?' });
  console.log(`
Chatpulse sample chatbot is up (node --require chatpulse/register examples/chatbot/server.js)
  app:      ${appUrl}
  metrics:  http://127.0.0.1:${metricsPort}/metrics   (Prometheus scrape endpoint)
  health:   http://127.0.0.1:${healthPort}/api/v1/health
  traffic:  ${rps} req/s ${durationMs > 0 ? `for ${durationMs / 1000} s` : 'until Ctrl-C'}, progress every ${PROGRESS_INTERVAL_MS / 1000} s

Try:
  curl -N -X POST ${appUrl}/api/chat/stream -H 'content-type: application/json' -d '${ask}'
  curl -N '${appUrl}/api/chat/demo/stream?message=How+long+does+a+refund+take&audio=1'
  curl -s http://127.0.0.1:${metricsPort}/metrics | grep chatbot_
  curl -s http://127.0.0.1:${healthPort}/api/v1/health
`);
}

async function main() {
  const options = parseOptions();
  if (options.help) {
    console.log(USAGE);
    return 0;
  }

  const registerRequest = process.env.CHATPULSE_REGISTER || 'chatpulse/register';
  const register = resolveRegister(registerRequest);
  if (!register) {
    console.error(
      `run: cannot resolve the Chatpulse register module '${registerRequest}' from ${process.cwd()}.\n` +
        `     Build it first with \`npm run build\`, or set CHATPULSE_REGISTER to the path of a built register.js.`,
    );
    return 1;
  }

  const port = process.env.PORT || '3000';
  const healthPort = process.env.CHATPULSE_HEALTH_PORT || '9465';
  const metricsPort = process.env.OTEL_EXPORTER_PROMETHEUS_PORT || '9464'; // the Prometheus exporter's own setting
  const appUrl = `http://127.0.0.1:${port}`;

  const child = spawn(process.execPath, ['--require', register, SERVER], {
    cwd: REPO_ROOT,
    // One name for the metrics' service_name and the health report (OTel's own default would be
    // unknown_service:node, which no dashboard filter expects).
    // LLM_API=openai: the answer comes through the openai SDK from a local model server, so the
    // dashboards' "Model calls" row has data (LLM_API=simulated keeps it in-process).
    env: { ...process.env, PORT: port, CHATPULSE_HEALTH_PORT: healthPort, OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME || 'chatbot', LLM_API: process.env.LLM_API || 'openai' },
    stdio: 'inherit',
  });
  const exited = once(child, 'exit');

  // Everything below stops on Ctrl-C, SIGTERM or the child dying on its own.
  const stop = new AbortController();
  let stopping = false; // set before the child is asked to stop, so its exit then is expected
  let failed = false;
  exited.then(() => {
    if (stopping) return;
    failed = true;
    stop.abort();
  });
  const onSignal = () => {
    stopping = true; // Ctrl-C in a terminal also reaches the child directly
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await waitUntilHealthy(`${appUrl}/healthz`, stop.signal);
    printBanner({ appUrl, metricsPort, healthPort, ...options });
    const summary = await driveTraffic({
      baseUrl: appUrl,
      rps: options.rps,
      durationMs: options.durationMs,
      concurrency: 16,
      signal: stop.signal,
      onProgress: (s) => log(`traffic: ${formatSummary(s)}`),
      progressIntervalMs: PROGRESS_INTERVAL_MS,
    });
    log(`traffic: ${formatSummary(summary)}`);
  } catch (err) {
    if (!stop.signal.aborted) {
      failed = true;
      console.error(`run: ${err.message}`);
    }
  }

  stopping = true;
  if (child.exitCode === null && child.signalCode === null) {
    log('stopping the chatbot');
    child.kill('SIGTERM');
  }
  const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const [code, signal] = await exited;
  clearTimeout(killTimer);
  if (code !== 0) {
    console.error(`run: the chatbot exited ${signal ? `on ${signal}` : `with code ${code}`}`);
    return 1;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`run: ${err.message}\n${USAGE}`);
    process.exit(2);
  },
);
