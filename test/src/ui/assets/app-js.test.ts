/** Where the status page's script comes from: the bundle npm run build writes, or a clear error. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_JS_PATH, appJs, readAppJs } from '../../../../src/ui/assets/app-js';

const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-app-js-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the status page script', () => {
  it('is read from dist/ui/app.js under the package root', () => {
    expect(APP_JS_PATH).toBe(path.resolve(__dirname, '../../../../dist/ui/app.js'));
    expect(appJs()).toContain('/api/v1/health/stream');
  });

  it('reads a built file as it is', () => {
    const file = path.join(dir, 'app.js');
    writeFileSync(file, '"use strict";\n');
    expect(readAppJs(file)).toBe('"use strict";\n');
  });

  it('says which file is missing and how to build it', () => {
    const file = path.join(dir, 'nope', 'app.js');
    expect(() => readAppJs(file)).toThrow(`the status page's script ${file} is missing or unreadable (ENOENT): run npm run build`);
  });
});
