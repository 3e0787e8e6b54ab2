/**
 * Environment for examples/chatbot when a test needs answers in tens of milliseconds, not the
 * sample's realistic seconds: no simulated errors, ten tokens, short and lightly jittered delays.
 */
export const QUICK_SAMPLE_ENV: Readonly<Record<string, string>> = Object.freeze({
  LLM_FIRST_TOKEN_MS: '20',
  LLM_FIRST_TOKEN_JITTER_MS: '5',
  LLM_TOKEN_INTERVAL_MS: '5',
  LLM_TOKEN_JITTER_MS: '1',
  LLM_TOKENS: '10',
  LLM_ERROR_RATE: '0',
  KB_RETRIEVAL_MS: '5',
  KB_RETRIEVAL_JITTER_MS: '1',
});
