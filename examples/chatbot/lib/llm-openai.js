'use strict';

// The sample's LLM through the official `openai` SDK, as a real backend calls one (`LLM_API=openai`):
// against LLM_BASE_URL when set, else against a local model server (model-server.js) forked here, so
// the demo needs no network and no key. Chatpulse sees these calls with no code change, as it would
// calls to OpenAI, vLLM or LiteLLM.

const path = require('node:path');
const { fork } = require('node:child_process');
const { once } = require('node:events');
const { LlmError } = require('./simulate');

function createOpenAiLlm(config) {
  const OpenAI = require('openai');
  let child;
  const ready = (async () => {
    if (config.llmBaseUrl !== '') return config.llmBaseUrl;
    // Not instrumented: it stands for a model server elsewhere, not for part of the app.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    child = fork(path.join(__dirname, 'model-server.js'), [JSON.stringify(config)], { execArgv: [], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const [{ port }] = await once(child, 'message');
    child.channel?.unref();
    child.unref();
    return `http://127.0.0.1:${port}/v1`;
  })();
  let client;

  async function* streamCompletion(context, _config, signal) {
    client ??= new OpenAI({ baseURL: await ready, apiKey: config.llmApiKey, maxRetries: 0 });
    let stream;
    try {
      stream = await client.chat.completions.create(
        {
          model: config.llmModel,
          messages: [
            { role: 'system', content: context },
            { role: 'user', content: 'Answer from the context.' },
          ],
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
    } catch (err) {
      signal.throwIfAborted();
      throw new LlmError(`model provider returned ${err.status ?? 'an error'}`);
    }
    try {
      for await (const chunk of stream) {
        const token = chunk.choices[0]?.delta?.content;
        if (token) yield token;
      }
    } catch (err) {
      signal.throwIfAborted();
      throw new LlmError('model stream interrupted');
    }
  }

  return {
    streamCompletion,
    ready: ready.then(() => undefined),
    close() {
      child?.kill();
    },
  };
}

module.exports = { createOpenAiLlm };
