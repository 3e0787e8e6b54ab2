/** The key scanners the formats read events with, on the JSON shapes serializers write. */
import { describe, expect, it } from 'vitest';
import { hasContent, intValue, key, stringValue, typeOrEvent, valueStart } from '../../../../instrumentation/streams/formats/json-scan';

describe('json-scan', () => {
  it('finds values after compact and spaced colons, never inside strings', () => {
    expect(valueStart('{"a": 1, "b" :  "x"}', key('b'))).toBe(16);
    expect(stringValue('{"v":"\\"b\\":\\"no","b":"yes"}', key('b'))).toBe('yes');
    expect(intValue('{"usage": {"prompt_tokens": 12}}', key('prompt_tokens'))).toBe(12);
    expect(intValue('{"prompt_tokens": null}', key('prompt_tokens'))).toBe(-1);
  });
  it('hasContent: non-empty strings, arrays and objects carry; null, "" and [] do not', () => {
    expect(hasContent('{"c":"x"}', key('c'))).toBe(true);
    expect(hasContent('{"c":""}', key('c'))).toBe(false);
    expect(hasContent('{"c":null}', key('c'))).toBe(false);
    expect(hasContent('{"c":[ ]}', key('c'))).toBe(false);
    expect(hasContent('{"c":[{}]}', key('c'))).toBe(true);
    expect(hasContent('{"c":{}}', key('c'))).toBe(true);
    // Cut off by the kept prefix right after the opening quote: not empty.
    expect(hasContent('{"c":"', key('c'))).toBe(true);
  });
  it('typeOrEvent: the first type or event key, short and long events alike', () => {
    for (const pad of ['', 'x'.repeat(400)]) {
      expect(typeOrEvent(`{"p":"${pad}","type": "done"}`)).toBe('done');
      expect(typeOrEvent(`{"p":"${pad}","event":"workflow_started"}`)).toBe('workflow_started');
      expect(typeOrEvent(`{"p":"${pad}\\"type\\":\\"done\\"","token":"x"}`)).toBeUndefined();
      expect(typeOrEvent(`{"p":"${pad}","type":3}`)).toBeUndefined();
    }
    expect(typeOrEvent('{"types":"a","eventually":"b"}')).toBeUndefined();
  });
});
