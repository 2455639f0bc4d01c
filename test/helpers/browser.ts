import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: the browser the tests drive, installed from the distribution, never downloaded by a tool. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Installs Debian's `chromium` package when it is missing (`scripts/ensure-deps.sh` does the same): idempotent, and
 * the only way this project gets a browser.
 */
export function ensureChromium(): void {
  if (existsSync(chromiumPath)) return;
  const root = process.getuid?.() === 0;
  const run = (args: string[]) =>
    execFileSync(root ? args[0]! : 'sudo', root ? args.slice(1) : args, { stdio: 'inherit', timeout: 600_000 });
  run(['apt-get', 'update', '-qq']);
  run(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', 'chromium']);
}

/**
 * Headless Chromium driven by playwright-core, with the flags this machine needs: no sandbox (root), no GPU, and none
 * of the background connections a closed network refuses (QUIC, first-run, component updates, sync). Playwright gives
 * each launch a fresh, empty profile directory of its own.
 */
export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
