import { FRAME_CONTENT, FRAME_CONTROL, type PayloadFormat } from './frame';
import { hasContent, key, type Key } from './json-scan';

/**
 * A house format named by `CHATPULSE_TOKEN_FIELD` (`choices.0.delta.content`, `delta.text`): an
 * event carries content when that field of its JSON is a non-empty string, array or object.
 */
export class TokenFieldFormat implements PayloadFormat {
  readonly name = 'token-field';
  private readonly last: Key;
  constructor(private readonly path: readonly string[]) {
    this.last = key(path[path.length - 1]!);
  }

  classify(_event: string, data: string): number {
    let v: unknown;
    try {
      v = JSON.parse(data);
    } catch {
      // A prefix cut by the parser's bound (or not JSON): judge by the field's own key.
      return hasContent(data, this.last) ? FRAME_CONTENT : FRAME_CONTROL;
    }
    for (const seg of this.path) {
      if (v === null || typeof v !== 'object') return FRAME_CONTROL;
      v = (v as Record<string, unknown>)[seg];
    }
    if (typeof v === 'string') return v.length > 0 ? FRAME_CONTENT : FRAME_CONTROL;
    if (Array.isArray(v)) return v.length > 0 ? FRAME_CONTENT : FRAME_CONTROL;
    return v !== null && typeof v === 'object' ? FRAME_CONTENT : FRAME_CONTROL;
  }
}
