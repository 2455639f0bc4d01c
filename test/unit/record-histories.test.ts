import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { historiesDir } from '../helpers/histories';

/**
 * The recorder refuses before it starts anything: a released version's histories are never overwritten, and a
 * version must be named. (It records for real only under `npm run record-histories`, on servers of its own.)
 */
const root = path.resolve(__dirname, '..', '..');

function record(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/record-histories.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

it('refuses to overwrite a recorded history, and leaves it as it was', () => {
  const file = path.join(historiesDir, 'conversation', 'v1', 'media.json');
  const before = readFileSync(file, 'utf8');
  const run = record('--version', 'v1', '--only', 'conversation/media');
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('Refusing to overwrite recorded histories (test/histories/conversation/v1/media.json)');
  expect(readFileSync(file, 'utf8')).toBe(before);
});

it('needs a version, and knows its scenarios', () => {
  const noVersion = record('--only', 'conversation/media');
  expect(noVersion.status).toBe(2);
  expect(noVersion.stderr).toContain('--version vN is required');
  const unknown = record('--version', 'v99', '--only', 'conversation/no-such-thing');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('Unknown scenario conversation/no-such-thing');
});
