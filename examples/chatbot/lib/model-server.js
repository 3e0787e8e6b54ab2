'use strict';

// A local stand-in for an OpenAI-compatible model server (vLLM, Ollama's /v1, LiteLLM), so the
// sample can call its "LLM" through the official `openai` SDK with no network: `POST
// /v1/chat/completions` streams chat completion chunks as the API reference shows them (a role-only
// first chunk, content deltas, a finish chunk, the usage chunk, `data: [DONE]`), with the sample's
// simulated latencies and failures: a 503 before the first token, or an error event mid-answer.
// Run as its own process (server.js forks it), so it is not part of the instrumented app.

const http = require('node:http');
const { composeAnswer, sampleLatency } = require('./simulate');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function chunk(model, delta, finish, usage = 'null') {
  return `data: {"id":"chatcmpl-sample","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"system_fingerprint":"fp_sample","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}],"usage":${usage}}\n\n`;
}

function createModelServer(config) {
  return http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}');
        return;
      }
      let closed = false;
      res.on('close', () => (closed = true));
      const request = JSON.parse(body);
      const context = request.messages?.find((m) => m.role === 'system')?.content ?? '';
      const prompt = request.messages?.find((m) => m.role === 'user')?.content ?? '';
      const tokens = composeAnswer(context, config.llmTokens);
      const failAt = Math.random() < config.llmErrorRate ? (Math.random() < 0.5 ? 0 : Math.floor(Math.random() * tokens.length)) : -1;
      const model = request.model;
      await sleep(sampleLatency(config.llmFirstTokenMs, config.llmFirstTokenJitterMs));
      if (failAt === 0) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(chunk(model, '{"role":"assistant","content":"","refusal":null}', 'null'));
      for (let i = 0; i < tokens.length && !closed; i++) {
        if (i > 0) await sleep(sampleLatency(config.llmTokenIntervalMs, config.llmTokenJitterMs));
        if (i === failAt) {
          res.end('data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}\n\n');
          return;
        }
        res.write(chunk(model, JSON.stringify({ content: tokens[i] }), 'null'));
      }
      if (closed) return;
      const promptTokens = (context + prompt).split(/\s+/).length;
      res.write(chunk(model, '{}', '"stop"'));
      res.end(
        `data: {"id":"chatcmpl-sample","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"system_fingerprint":"fp_sample","choices":[],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${tokens.length},"total_tokens":${promptTokens + tokens.length}}}\n\ndata: [DONE]\n\n`,
      );
    });
  });
}

module.exports = { createModelServer };

if (require.main === module) {
  const server = createModelServer(JSON.parse(process.argv[2]));
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  // Ends with the app that forked it.
  process.on('disconnect', () => process.exit(0));
}
