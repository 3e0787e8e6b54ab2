import { classifyErrorPayload } from '../error-classifier';
import { FRAME_AUDIO, FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { isJsonObject, typeOrEvent } from './json-scan';
import type { EventNames } from './rules';
import { readUsage } from './usage';

/**
 * A whole chunk that is one plain `data:` event the generic rules count as content: one line, no
 * CR, not blank, and no `"type"` / `"event"` key that could name a control event (`[DONE]` is left
 * to the length check, GENERIC_CONTENT_EVENT_MIN). Once a stream's format is fixed to the generic
 * rules, its token events are tested with this one regular expression instead of the parse and the
 * two key searches (callgrind: ~1,400 instructions an event down to ~700; a JS loop or `startsWith`
 * pays ~40 instructions a character on the strings `res.write` hands the hook, the compiled
 * expression a few). A chunk it rejects takes the exact path, so a miss costs time, never a count.
 * Written without look-ahead at the start (~70 instructions an event): the first character after
 * the blanks must be something, so a blank event cannot match.
 */
export const GENERIC_CONTENT_EVENT = /^data:[ \t]*(?:[^\r\n" \t]|"(?!(?:type|event)"))[^\r\n"]*(?:"(?!(?:type|event)")[^\r\n"]*)*\n\n$/;
/** Shorter chunks take the exact path: `data: [DONE]\n\n` is 14 characters. */
export const GENERIC_CONTENT_EVENT_MIN = 15;
/** Longer chunks take the exact path: its native searches beat the expression's per-character scan. */
export const GENERIC_CONTENT_EVENT_MAX = 256;

/**
 * Any other stream: every event with data carries content, unless its JSON names itself (by
 * `type` or `event`) as one of the control, error or audio names, the same lists that classify
 * SSE event names. So `{"type":"start"}` or `{"event":"workflow_started"}` sent before the model
 * answers is not a token. A control event may carry the usage (`{"type":"done","usage":{…}}`).
 */
export class GenericFormat implements PayloadFormat {
  readonly name = 'generic';
  constructor(private readonly names: EventNames) {}

  classify(_event: string, data: string, facts: StreamFacts): number {
    if (isJsonObject(data)) {
      const t = typeOrEvent(data);
      if (t !== undefined) {
        const n = this.names;
        if (n.ignored.has(t)) {
          readUsage(data, facts);
          return FRAME_CONTROL;
        }
        if (n.error.has(t)) {
          facts.errorType = classifyErrorPayload(data);
          return FRAME_ERROR;
        }
        if (n.audio.has(t)) return FRAME_AUDIO;
      }
    }
    return FRAME_CONTENT;
  }
}
