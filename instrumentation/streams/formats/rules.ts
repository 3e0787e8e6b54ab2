import { aiSdkData } from './ai-sdk-data';
import { aiSdkUi } from './ai-sdk-ui';
import { anthropic } from './anthropic';
import { FRAME_AUDIO, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat } from './frame';
import { gemini } from './gemini';
import { GenericFormat } from './generic';
import { ollama } from './ollama';
import { openaiChat } from './openai-chat';
import { openaiResponses } from './openai-responses';
import { TokenFieldFormat } from './token-field';

/** Event names (SSE `event:`, or a JSON payload's `type`/`event`) whose meaning is fixed by name. */
export interface EventNames {
  /** Audio (default `audio`). */
  readonly audio: ReadonlySet<string>;
  /** Errors (default `error`). */
  readonly error: ReadonlySet<string>;
  /** Neither tokens nor audio: keepalives and the control events frameworks send. */
  readonly ignored: ReadonlySet<string>;
}

/** `CHATPULSE_STREAM_FORMAT` values: `auto` recognises the format per response. */
export const STREAM_FORMATS = Object.freeze([
  'auto',
  'openai-chat',
  'openai-responses',
  'anthropic',
  'ai-sdk-ui',
  'ai-sdk-data',
  'text',
  'gemini',
  'ollama',
  'generic',
] as const);
export type StreamFormatName = (typeof STREAM_FORMATS)[number];

/** The stream settings of the resolved configuration. */
export interface StreamSettings extends EventNames {
  readonly format: StreamFormatName;
  /** When non-empty, only SSE events of these names carry tokens (`message` = unnamed events). */
  readonly tokenEvents: ReadonlySet<string>;
  /** When non-empty, the JSON field path that carries tokens (`choices.0.delta.content`). */
  readonly tokenField: readonly string[];
}

const BY_NAME: Readonly<Record<string, PayloadFormat>> = {
  'openai-chat': openaiChat,
  'openai-responses': openaiResponses,
  anthropic,
  'ai-sdk-ui': aiSdkUi,
  'ai-sdk-data': aiSdkData,
  gemini,
  ollama,
};

/**
 * The formats one configuration uses, built once at start and shared by every stream's parser:
 * the hot path looks nothing up by name.
 */
export class StreamRules {
  readonly names: EventNames;
  readonly generic: PayloadFormat;
  /** The format every stream uses when one is forced (format or token field), else undefined. */
  readonly forced: PayloadFormat | undefined;
  /** `text`: every non-empty write of a text/plain or octet-stream response is a chunk. */
  readonly forcedText: boolean;
  readonly tokenEvents: ReadonlySet<string> | undefined;
  /** What a named event carries by its name alone (FRAME_AUDIO, FRAME_ERROR, or 0 for control): one lookup, audio first. */
  readonly byName: ReadonlyMap<string, number>;

  constructor(s: StreamSettings) {
    this.names = { audio: s.audio, error: s.error, ignored: s.ignored };
    this.generic = new GenericFormat(this.names);
    this.forced =
      s.tokenField.length > 0 ? new TokenFieldFormat(s.tokenField) : s.format === 'generic' ? this.generic : BY_NAME[s.format];
    this.forcedText = s.format === 'text';
    this.tokenEvents = s.tokenEvents.size > 0 ? s.tokenEvents : undefined;
    const byName = new Map<string, number>();
    for (const n of s.ignored) byName.set(n, FRAME_CONTROL);
    for (const n of s.error) byName.set(n, FRAME_ERROR);
    for (const n of s.audio) byName.set(n, FRAME_AUDIO);
    this.byName = byName;
  }
}
