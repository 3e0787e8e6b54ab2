'use strict';

// Every knob: option name, environment variable, default, value kind.
// Options passed to createApp()/start() win over the environment, which wins over defaults.
const SETTINGS = [
  ['port', 'PORT', 3000, 'port'],
  ['redisUrl', 'REDIS_URL', 'redis://127.0.0.1:6379', 'url'],
  ['redisKeyPrefix', 'REDIS_KEY_PREFIX', '', 'string'],
  ['databaseUrl', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/postgres', 'url'],

  ['kbRetrievalMs', 'KB_RETRIEVAL_MS', 150, 'ms'],
  ['kbRetrievalJitterMs', 'KB_RETRIEVAL_JITTER_MS', 50, 'ms'],
  ['kbCacheTtlS', 'KB_CACHE_TTL_S', 3600, 'seconds'],

  ['llmFirstTokenMs', 'LLM_FIRST_TOKEN_MS', 400, 'ms'],
  ['llmFirstTokenJitterMs', 'LLM_FIRST_TOKEN_JITTER_MS', 150, 'ms'],
  ['llmTokenIntervalMs', 'LLM_TOKEN_INTERVAL_MS', 30, 'ms'],
  ['llmTokenJitterMs', 'LLM_TOKEN_JITTER_MS', 15, 'ms'],
  ['llmTokens', 'LLM_TOKENS', 60, 'count'],
  ['llmErrorRate', 'LLM_ERROR_RATE', 0.02, 'ratio'],
  ['llmErrorThrowRatio', 'LLM_ERROR_THROW_RATIO', 0.25, 'ratio'],

  // `simulated`: the LLM is a generator in this process; `openai`: calls through the openai SDK.
  ['llmApi', 'LLM_API', 'simulated', 'llm-api'],
  ['llmBaseUrl', 'LLM_BASE_URL', '', 'string'],
  ['llmModel', 'LLM_MODEL', 'sample-model', 'string'],
  ['llmApiKey', 'LLM_API_KEY', 'sample-key', 'string'],

  ['ttsFirstAudioMs', 'TTS_FIRST_AUDIO_MS', 250, 'ms'],
  ['ttsFirstAudioJitterMs', 'TTS_FIRST_AUDIO_JITTER_MS', 100, 'ms'],
  ['ttsChunks', 'TTS_CHUNKS', 4, 'count'],
  ['ttsChunkIntervalMs', 'TTS_CHUNK_INTERVAL_MS', 40, 'ms'],
  ['ttsErrorRate', 'TTS_ERROR_RATE', 0.01, 'ratio'],
  ['ttsCacheTtlS', 'TTS_CACHE_TTL_S', 86400, 'seconds'],

  ['pingIntervalMs', 'SSE_PING_MS', 15000, 'ms'],
];

function parse(kind, raw, source) {
  const fail = (expected) => {
    throw new Error(`${source} must be ${expected}, got ${JSON.stringify(raw)}`);
  };
  if (kind === 'string') return String(raw);
  if (kind === 'llm-api') {
    if (raw !== 'simulated' && raw !== 'openai') fail('simulated or openai');
    return raw;
  }
  if (kind === 'url') {
    if (!URL.canParse(String(raw))) fail('a URL');
    return String(raw);
  }
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (String(raw).trim() === '' || !Number.isFinite(n)) fail('a number');
  switch (kind) {
    case 'port':
      if (!Number.isInteger(n) || n < 0 || n > 65535) fail('a port number (0-65535)');
      return n;
    case 'count':
      if (!Number.isInteger(n) || n < 1) fail('an integer >= 1');
      return n;
    case 'ratio':
      if (n < 0 || n > 1) fail('a ratio between 0 and 1');
      return n;
    case 'ms':
      if (n < 0) fail('a duration in ms >= 0');
      return n;
    case 'seconds':
      if (!Number.isInteger(n) || n < 1) fail('a whole number of seconds >= 1');
      return n;
    default:
      throw new Error(`unknown setting kind ${kind}`);
  }
}

/** Resolves the effective configuration; throws with the offending variable's name on bad input. */
function loadConfig(options = {}, env = process.env) {
  const config = {};
  for (const [key, envName, fallback, kind] of SETTINGS) {
    if (options[key] !== undefined) config[key] = parse(kind, options[key], `option ${key}`);
    else if (env[envName] !== undefined && env[envName] !== '') config[key] = parse(kind, env[envName], envName);
    else config[key] = fallback;
  }
  return Object.freeze(config);
}

module.exports = { loadConfig };
