/**
 * .ci/install-ops.sh: valid bash, and idempotent — with the tools installed it does not touch apt.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, requireTool, run } from './lib/repo';

const SCRIPT = path.join(REPO, '.ci', 'install-ops.sh');

describe('.ci/install-ops.sh', () => {
  it('is valid bash', () => {
    const r = run('bash', ['-n', SCRIPT]);
    expect(r.status, r.stderr).toBe(0);
  });

  it('does nothing with apt when promtool, prometheus, amtool and alertmanager are installed', () => {
    for (const t of ['promtool', 'prometheus', 'amtool', 'alertmanager'] as const) requireTool(t);
    const stubs = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpulse-apt-stub-'));
    try {
      const log = path.join(stubs, 'apt.log');
      fs.writeFileSync(path.join(stubs, 'apt-get'), `#!/bin/sh\necho "apt-get $*" >> ${log}\nexit 1\n`, { mode: 0o755 });
      const withStub = run('env', [`PATH=${stubs}:${process.env.PATH}`, 'bash', SCRIPT], { timeoutMs: 30_000 });
      expect(withStub.status, withStub.stdout + withStub.stderr).toBe(0);
      expect(withStub.stdout).toContain('already installed');
      expect(fs.existsSync(log), 'apt-get was called although everything is installed').toBe(false);
    } finally {
      fs.rmSync(stubs, { recursive: true, force: true });
    }
  });
});
