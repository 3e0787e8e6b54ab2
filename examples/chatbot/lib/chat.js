'use strict';

const crypto = require('node:crypto');
const {
  AUDIO_CHUNK_BYTES,
  LlmError,
  TtsError,
  retrieveContext,
  streamCompletion,
  synthesizeSpeech,
} = require('./simulate');

/** Case, spacing and trailing punctuation do not change what is asked, so they must not change the cache key. */
function normaliseQuestion(question) {
  return question
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s?!.]+$/, '')
    .trim();
}

const hash = (text) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 32);

/** Redis key (before any key prefix) of the knowledge-base context for a question. */
const kbKey = (question) => `kb:${hash(normaliseQuestion(question))}`;

/** Redis key (before any key prefix) of the synthesized audio for a sentence. */
const ttsKey = (sentence) => `tts:${hash(sentence.trim())}`;

async function loadContext({ cache, config }, question, signal) {
  const key = kbKey(question);
  const cached = await cache.get(key);
  if (cached !== null) return { context: cached, kbCache: 'hit' };
  const context = await retrieveContext(normaliseQuestion(question), config, signal);
  await cache.set(key, context, config.kbCacheTtlS);
  return { context, kbCache: 'miss' };
}

function* splitBuffer(buffer, size) {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

/**
 * Audio for a text: replayed from the cache, or synthesized and then cached.
 * Resolves once the cache was consulted, to { ttsCache: 'hit' | 'miss', chunks }.
 */
async function openSpeech({ cache, config }, text, signal) {
  const key = ttsKey(text);
  const cached = await cache.getBuffer(key);
  if (cached !== null) return { ttsCache: 'hit', chunks: splitBuffer(cached, AUDIO_CHUNK_BYTES) };

  async function* synthesizeAndCache() {
    const parts = [];
    for await (const chunk of synthesizeSpeech(config, signal)) {
      parts.push(chunk);
      yield chunk;
    }
    // Only complete audio is cached: an aborted or failed synthesis never reaches this line.
    await cache.set(key, Buffer.concat(parts), config.ttsCacheTtlS);
  }
  return { ttsCache: 'miss', chunks: synthesizeAndCache() };
}

/**
 * Speaks sentences one after another while the LLM keeps streaming, so audio events
 * interleave with token events. A TTS failure is reported once and the answer continues as text only.
 */
function createSpeechQueue(deps, signal, emit) {
  const cancel = new AbortController();
  const speechSignal = AbortSignal.any([signal, cancel.signal]);
  const stats = { audioChunks: 0, ttsCache: { hit: 0, miss: 0 } };
  let degraded = false;
  let failure = null;
  let tail = Promise.resolve();

  async function speak(text) {
    if (degraded || failure || speechSignal.aborted) return;
    try {
      const { ttsCache, chunks } = await openSpeech(deps, text, speechSignal);
      stats.ttsCache[ttsCache] += 1;
      for await (const chunk of chunks) {
        await emit({ type: 'audio', chunk });
        stats.audioChunks += 1;
      }
    } catch (err) {
      if (speechSignal.aborted) return; // the stream ended; the caller handles that
      if (!(err instanceof TtsError)) {
        failure = err;
        return;
      }
      degraded = true;
      try {
        await emit({ type: 'error', error: { type: 'tts', message: err.message } });
      } catch (emitError) {
        if (!speechSignal.aborted) failure = emitError;
      }
    }
  }

  return {
    say(text) {
      tail = tail.then(() => speak(text));
    },
    cancel: () => cancel.abort(),
    /** Waits for the queued sentences; rethrows an unexpected failure. */
    async finish() {
      await tail;
      if (failure) throw failure;
      return stats;
    },
  };
}

/**
 * One chat turn: store the question, load knowledge-base context, stream the LLM answer
 * (plus audio when asked), store the answer. Events go to `emit(event)`, which may wait for
 * back-pressure: { type: 'token', token } | { type: 'audio', chunk } | { type: 'error', error } | { type: 'done', data }.
 *
 * Rejects with the signal's reason when aborted, and with the LlmError itself for the fraction
 * (llmErrorThrowRatio) of model failures this app "forgets" to handle.
 */
async function runChat(deps, { conversationId, message, audio }, signal, emit) {
  const { config, store } = deps;
  const userSaved = store.saveMessage(conversationId, 'user', message);
  const { context, kbCache } = await loadContext(deps, message, signal);
  const speech = audio ? createSpeechQueue(deps, signal, emit) : null;

  const tokens = [];
  let sentence = '';
  try {
    for await (const token of (deps.llm?.streamCompletion ?? streamCompletion)(context, config, signal)) {
      tokens.push(token);
      await emit({ type: 'token', token });
      if (!speech) continue;
      sentence += token;
      if (/[.!?]$/.test(token)) {
        speech.say(sentence);
        sentence = '';
      }
    }
  } catch (err) {
    speech?.cancel();
    if (!(err instanceof LlmError)) throw err;
    if (Math.random() < config.llmErrorThrowRatio) throw err;
    await emit({ type: 'error', error: { type: 'llm', message: err.message } });
    return;
  }
  if (speech && sentence) speech.say(sentence);
  const audioStats = speech ? await speech.finish() : {};

  await userSaved; // keeps the user message before the answer in id order
  const messageId = await store.saveMessage(conversationId, 'assistant', tokens.join(''));
  // The usage a model API reports, passed on to the client as OpenAI names it (Chatpulse reads it too).
  const usage = { prompt_tokens: countTokens(context) + countTokens(message), completion_tokens: tokens.length };
  await emit({ type: 'done', data: { conversationId, messageId, tokens: tokens.length, usage, kbCache, ...audioStats } });
}

/** A rough token count (words and punctuation), as a stand-in for the model's own tokenizer. */
function countTokens(text) {
  return typeof text === 'string' ? (text.match(/\w+|[^\s\w]/g) ?? []).length : 0;
}

module.exports = { runChat, openSpeech, kbKey, LlmError, TtsError };
