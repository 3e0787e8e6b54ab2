'use strict';

// Stand-ins for the external services a chatbot backend calls: a knowledge-base retriever,
// an LLM that streams tokens and a text-to-speech engine that streams audio.

const crypto = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');

/** Size of one synthesized audio chunk. */
const AUDIO_CHUNK_BYTES = 2048;

class LlmError extends Error {
  name = 'LlmError';
}

class TtsError extends Error {
  name = 'TtsError';
}

/**
 * Log-normal sample with the given mean and standard deviation: service latencies are
 * right-skewed, with most calls near the mean and a long tail of slow ones.
 */
function sampleLatency(meanMs, jitterMs) {
  if (meanMs <= 0) return 0;
  if (jitterMs <= 0) return meanMs;
  const sigma2 = Math.log(1 + (jitterMs / meanMs) ** 2);
  const mu = Math.log(meanMs) - sigma2 / 2;
  const gaussian = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return Math.exp(mu + Math.sqrt(sigma2) * gaussian);
}

function delay(ms, signal) {
  signal.throwIfAborted();
  return ms > 0 ? sleep(ms, undefined, { signal }) : Promise.resolve();
}

/** Deterministic PRNG (mulberry32), so the same prompt always yields the same answer and audio cache keys repeat. */
function seededRandom(text) {
  let state = crypto.createHash('sha256').update(text).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ARTICLES = [
  'Passwords are reset from the sign-in page; the reset link expires after one hour.',
  'Invoices are issued on the first business day of each month and can be downloaded as PDF.',
  'Plans can be upgraded at any time; the difference is prorated on the next invoice.',
  'Refunds are processed within five business days to the original payment method.',
  'Two-factor authentication supports authenticator apps and hardware security keys.',
  'Data exports are prepared in the background and a download link is sent by email.',
  'Team members can be invited from the workspace settings page by an administrator.',
  'The public API is rate limited to one hundred requests per minute per token.',
];

const OPENINGS = ['Sure, happy to help.', 'Good question.', 'Here is what I found in our help center.'];
const CLOSINGS = [
  'Let me know if anything is unclear.',
  'If that does not solve it, a support agent can take a closer look.',
  'Is there anything else I can help you with?',
];

/** Retrieves knowledge-base passages for a question, as the JSON context handed to the LLM. */
async function retrieveContext(question, config, signal) {
  await delay(sampleLatency(config.kbRetrievalMs, config.kbRetrievalJitterMs), signal);
  const first = Math.floor(seededRandom(question)() * ARTICLES.length);
  const passages = [0, 1, 2].map((i) => ARTICLES[(first + i) % ARTICLES.length]);
  return JSON.stringify({ question, passages });
}

/** The answer to a context as LLM-style tokens: words, each but the first with a leading space. */
function composeAnswer(context, tokenCount) {
  const random = seededRandom(context);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const { passages } = JSON.parse(context);
  const sentences = [pick(OPENINGS), ...passages, pick(CLOSINGS)];
  const words = [];
  // Long answers go over the material again; short ones are cut, and still end a sentence for TTS.
  for (let i = 0; words.length < tokenCount; i++) words.push(...sentences[i % sentences.length].split(' '));
  words.length = tokenCount;
  if (!/[.!?]$/.test(words[tokenCount - 1])) words[tokenCount - 1] += '.';
  return words.map((word, i) => (i === 0 ? word : ` ${word}`));
}

/**
 * Streams the completion for a context token by token. With probability llmErrorRate the
 * model fails: half of the time before the first token (provider error), otherwise mid-answer.
 */
async function* streamCompletion(context, config, signal) {
  const tokens = composeAnswer(context, config.llmTokens);
  const failAt =
    Math.random() < config.llmErrorRate ? (Math.random() < 0.5 ? 0 : Math.floor(Math.random() * tokens.length)) : -1;
  await delay(sampleLatency(config.llmFirstTokenMs, config.llmFirstTokenJitterMs), signal);
  for (let i = 0; i < tokens.length; i++) {
    if (i === failAt) throw new LlmError(i === 0 ? 'model provider returned 503' : 'model stream interrupted');
    if (i > 0) await delay(sampleLatency(config.llmTokenIntervalMs, config.llmTokenJitterMs), signal);
    yield tokens[i];
  }
}

/** Streams synthesized speech: first-audio latency, then ttsChunks chunks. Fails with probability ttsErrorRate. */
async function* synthesizeSpeech(config, signal) {
  await delay(sampleLatency(config.ttsFirstAudioMs, config.ttsFirstAudioJitterMs), signal);
  if (Math.random() < config.ttsErrorRate) throw new TtsError('speech provider timed out');
  for (let i = 0; i < config.ttsChunks; i++) {
    if (i > 0) await delay(config.ttsChunkIntervalMs, signal);
    yield crypto.randomBytes(AUDIO_CHUNK_BYTES); // placeholder bytes, not decodable audio
  }
}

module.exports = {
  AUDIO_CHUNK_BYTES,
  composeAnswer,
  sampleLatency,
  LlmError,
  TtsError,
  retrieveContext,
  streamCompletion,
  synthesizeSpeech,
};
