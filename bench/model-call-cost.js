'use strict';
/**
 * What the GenAI hook adds per model call, in this process, without the network's noise: `fetch`
 * is replaced by a stand-in that answers at once with a Response holding the bytes of a real chat
 * completion stream (bench/model-server.js's 14 events, one chunk per event, as they arrive from a
 * model) or of a whole chat completion, and the call is read as the SDKs read it (`response.body`
 * chunk by chunk; `json()`). Cases run interleaved, in shuffled order, each round; a case's figure
 * is the median over rounds of µs per call; the hook's cost is the difference with the hook
 * installed over that stand-in.
 *
 *   npm run build && node bench/model-call-cost.js [--rounds 21] [--calls 2000]
 *
 * A second figure, with the network and the real `openai` SDK against bench/model-server.js, is
 * printed by `--sdk`: CPU per call of this process, hook vs none (noisier: the SDK and undici cost
 * ~1 ms per call).
 */
const path = require('node:path');

const DIST = path.resolve(__dirname, '..', 'dist', 'instrumentation');
const { installFetchHook } = require(path.join(DIST, 'genai/fetch-hook.js'));
const { Recorder } = require(path.join(DIST, 'metrics/recorder.js'));

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const ROUNDS = opt('--rounds', 21);
const CALLS = opt('--calls', 2000);

const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
const BASE = '"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb"';
const chunk = (delta, finish) => `data: {${BASE},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
const EVENTS = [
  chunk('{"role":"assistant","content":""}', 'null'),
  ...TOKENS.map((t) => chunk(JSON.stringify({ content: t }), 'null')),
  chunk('{}', '"stop"'),
  `data: {${BASE},"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":10,"total_tokens":21}}\n\n`,
  'data: [DONE]\n\n',
].map((e) => Buffer.from(e));
const WHOLE = Buffer.from(
  `{"id":"chatcmpl-bench","object":"chat.completion","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello, how can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":10,"total_tokens":21}}`,
);
const REQUEST = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], stream: true });

function standIn(input, init) {
  const stream = init.body.includes('"stream":true');
  let i = 0;
  const body = new ReadableStream({
    pull(c) {
      if (!stream) {
        c.enqueue(new Uint8Array(WHOLE));
        c.close();
      } else if (i < EVENTS.length) c.enqueue(new Uint8Array(EVENTS[i++]));
      else c.close();
    },
  });
  return Promise.resolve(new Response(body, { headers: { 'content-type': stream ? 'text/event-stream' : 'application/json' } }));
}

const URL_ = 'https://api.openai.com/v1/chat/completions';
async function streamed() {
  const res = await fetch(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST });
  const reader = res.body.getReader();
  for (;;) if ((await reader.read()).done) break;
}
async function whole() {
  const res = await fetch(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST.replace('"stream":true', '"stream":false') });
  await res.json();
}

async function main() {
  globalThis.fetch = standIn;
  const recorder = new Recorder();
  const results = {};
  const cases = [
    ['streamed, no hook', false, streamed],
    ['streamed, hook', true, streamed],
    ['whole, no hook', false, whole],
    ['whole, hook', true, whole],
  ];
  for (const [name] of cases) results[name] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, hooked, fn] of [...cases].sort(() => Math.random() - 0.5)) {
      const undo = hooked ? installFetchHook(recorder) : () => undefined;
      for (let i = 0; i < 50; i++) await fn();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CALLS; i++) await fn();
      results[name].push(Number(process.hrtime.bigint() - t0) / 1000 / CALLS);
      undo();
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(18)} ${v.toFixed(2)} µs per call`);
  console.log(`hook cost per call: streamed (14 events) ${(m['streamed, hook'] - m['streamed, no hook']).toFixed(2)} µs, whole ${(m['whole, hook'] - m['whole, no hook']).toFixed(2)} µs`);
  const recorded = [...recorder.modelCalls.duration.all()].reduce((a, s) => a + s.value.count, 0);
  console.log(`calls recorded: ${recorded}`);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
