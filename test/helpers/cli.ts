import { spawn } from 'node:child_process';
import { projectRoot } from '../../dev/paths';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run --silent temporal -- <args>` with exactly `env` (plus PATH, and HOME pointing at `home` so no profile file
 * of the machine's user is read). Asynchronous, so servers in the test's own process keep answering meanwhile.
 */
export function npmRunTemporal(
  args: string[],
  env: Record<string, string>,
  { home, timeoutMs = 60_000 }: { home: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'temporal', '--', ...args], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run temporal -- ${args.join(' ')} took over ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
