'use strict';
/**
 * A fake OpenAI-compatible model server for the benchmarks: `POST /v1/chat/completions` answers a
 * chat completion chunk stream at once (the role-only chunk, 10 content chunks, the finish chunk,
 * the usage chunk, `[DONE]`), and `stream: false` a chat completion object. Never instrumented.
 * Prints `ready <port>`; exits when its stdin closes.
 */
const http = require('node:http');

const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
const BASE = '"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb"';
const chunk = (delta, finish) => `data: {${BASE},"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
const STREAM =
  chunk('{"role":"assistant","content":""}', 'null') +
  TOKENS.map((t) => chunk(JSON.stringify({ content: t }), 'null')).join('') +
  chunk('{}', '"stop"') +
  `data: {${BASE},"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":10,"total_tokens":21}}\n\ndata: [DONE]\n\n`;
const WHOLE = `{"id":"chatcmpl-bench","object":"chat.completion","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":${JSON.stringify(TOKENS.join(''))}},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":10,"total_tokens":21}}`;

const server = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(STREAM);
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(WHOLE);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`ready ${server.address().port}`));
process.stdin.on('end', () => process.exit(0)).resume();
