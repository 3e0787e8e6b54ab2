import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TempRedisCluster } from '../../helpers/redis-cluster';

const exec = promisify(execFile);
const root = resolve(__dirname, '../../..');
let out: string;
let cluster: TempRedisCluster;

beforeAll(async () => {
  cluster = await TempRedisCluster.start();
  // Compiled as `npm run build` would, into a temp dir so the shared dist/ is left alone.
  out = mkdtempSync(join(tmpdir(), 'chatpulse-checks-build-'));
  await exec(
    join(root, 'node_modules/.bin/tsc'),
    ['--ignoreConfig', '--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'ES2022',
      '--strict', '--esModuleInterop', '--skipLibCheck', '--types', 'node', join(root, 'src/checks/index.ts')],
    { timeout: 30_000, cwd: root },
  );
}, 70_000);
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  cluster?.stop();
});

describe('a process using the checks', () => {
  it('exits on its own right after stop()', async () => {
    const { stdout } = await exec(process.execPath, [join(__dirname, 'fixtures/exit-probe.js'), join(out, 'src/checks/index.js')], {
      env: { ...process.env, NODE_PATH: join(root, 'node_modules'), REDIS_CLUSTER_SEED: `redis://127.0.0.1:${cluster.ports[0]}` },
      // Bounded: a leaked handle would keep it alive until this kills it (and fails the test).
      timeout: 10_000,
    });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { results?: [string, string][]; stoppedAt?: number; exitAt?: number });
    const { results, stoppedAt } = lines[0]!;
    const { exitAt } = lines[1]!;
    // (warn is possible on a loaded machine: slow round trips, event-loop delay.)
    expect(results!.filter(([, status]) => status === 'fail')).toEqual([]);
    expect(results).toHaveLength(8);
    expect(results).toContainEqual(['redis-cluster', 'pass']);
    expect(exitAt! - stoppedAt!).toBeLessThan(500);
  });
});
