/**
 * `npm run temporal -- <command>`: the Temporal CLI that temporal/install-cli.sh installs (.data/bin/temporal; `temporal`
 * is not on PATH after setup), pointed at the cluster the API and the worker use. `npm run --silent temporal -- ...`
 * leaves npm's banner out, for `-o json`.
 *
 * The connection comes from the same configuration as theirs (lib/temporal-config.ts: the TEMPORAL_* variables and
 * the profile file, with the project's defaults), handed to the CLI in the standard variables it reads: address,
 * namespace, TLS (the deprecated TEMPORAL_TLS_CERT_PATH/KEY_PATH translated), API key, and the codec server
 * (TEMPORAL_CODEC_ENDPOINT, TEMPORAL_CODEC_AUTH). Flags given on the command line win, as they do for the CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigDataSource } from '@temporalio/envconfig';
import { ConfigError, loadTemporalConfig } from '../lib/config';
import { deprecatedTemporalVariables, type TemporalConfig } from '../lib/temporal-config';

const root = path.resolve(__dirname, '..');
const binary = path.join(root, '.data', 'bin', 'temporal');

/** The CLI's own variable for a certificate given as a path or as inline data (from a profile file). */
function certificateVariables(name: string, source: ConfigDataSource | undefined): Record<string, string> {
  if (source === undefined) return {};
  if ('path' in source) return { [`${name}_PATH`]: source.path };
  return {
    [`${name}_DATA`]: typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8'),
  };
}

/** The environment the CLI gets: ours, with the resolved connection in the standard names. */
export function cliEnvironment(config: TemporalConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const old of Object.keys(deprecatedTemporalVariables)) delete out[old];
  out.TEMPORAL_ADDRESS = config.address;
  out.TEMPORAL_NAMESPACE = config.namespace;
  const tls = config.profile.tls;
  if (config.apiKey !== undefined) out.TEMPORAL_API_KEY = config.apiKey;
  // The CLI turns TLS on for an API key or any TLS setting, as our config does; an explicit "no" must say false.
  out.TEMPORAL_TLS = String(config.tls);
  if (tls !== undefined) {
    Object.assign(
      out,
      certificateVariables('TEMPORAL_TLS_CLIENT_CERT', tls.clientCert),
      certificateVariables('TEMPORAL_TLS_CLIENT_KEY', tls.clientKey),
      certificateVariables('TEMPORAL_TLS_SERVER_CA_CERT', tls.serverCACert),
      tls.serverName !== undefined ? { TEMPORAL_TLS_SERVER_NAME: tls.serverName } : {},
    );
  }
  if (config.codec) {
    out.TEMPORAL_CODEC_ENDPOINT = config.codec.endpoint;
    if (config.codec.auth !== undefined) out.TEMPORAL_CODEC_AUTH = config.codec.auth;
  }
  return out;
}

function main(): void {
  let config: TemporalConfig;
  try {
    config = loadTemporalConfig(process.env);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
  for (const deprecation of config.deprecations) console.error(`warning: ${deprecation}`);
  if (!existsSync(binary)) {
    // Its progress goes to stderr, so stdout stays the CLI's own.
    const install = spawnSync('bash', [path.join(root, 'temporal', 'install-cli.sh')], {
      stdio: ['ignore', process.stderr, process.stderr],
    });
    if (install.status !== 0) process.exit(install.status ?? 1);
  }
  const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', env: cliEnvironment(config, process.env) });
  // Ctrl-C reaches the CLI itself (same process group): this process only waits for it. A SIGTERM sent to this
  // process alone is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
}

if (require.main === module) main();
