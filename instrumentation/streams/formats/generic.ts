import { classifyErrorPayload } from '../error-classifier';
import { FRAME_AUDIO, FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { isJsonObject, typeOrEvent } from './json-scan';
import type { EventNames } from './rules';
import { readUsage } from './usage';

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
