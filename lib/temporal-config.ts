import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { accessSync, constants, existsSync } from 'node:fs';
import { z } from 'zod';

/**
 * The Temporal part of the configuration, read the way Temporal's own tools read it (`@temporalio/envconfig`, the same
 * names as the `temporal` CLI and every SDK): a profile from a TOML file (`TEMPORAL_CONFIG_FILE`, else
 * `~/.config/temporalio/temporal.toml`; `TEMPORAL_PROFILE`, else `default`), overridden by the `TEMPORAL_*` variables.
 * So a user's existing Temporal profile works unchanged.
 */

/** Parses "true"/"false"/"1"/"0"/"yes"/"no" strictly (envconfig itself takes anything but "true"/"1" as false). */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const text = z.string().min(1);

/** The variables of the Temporal connection and worker, spread into the one schema of lib/config.ts. */
export const temporalEnvShape = {
  TEMPORAL_ADDRESS: text.optional(),
  TEMPORAL_NAMESPACE: text.optional(),
  TEMPORAL_TASK_QUEUE: text.default('conversations'),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  /** Deprecated aliases of TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, read for one more release. */
  TEMPORAL_TLS_CERT_PATH: text.optional(),
  TEMPORAL_TLS_KEY_PATH: text.optional(),
  TEMPORAL_PROFILE: text.optional(),
  TEMPORAL_CONFIG_FILE: text.optional(),
  TEMPORAL_CODEC_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  TEMPORAL_CODEC_AUTH: text.optional(),
  WORKFLOW_BUNDLE_PATH: text.optional(),
};

const temporalEnvSchema = z.object(temporalEnvShape);
type TemporalEnv = z.output<typeof temporalEnvSchema>;

/** The old variable names and the standard ones that replace them. */
export const deprecatedTemporalVariables = {
  TEMPORAL_TLS_CERT_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
} as const;

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Whether the connection uses TLS: a TLS setting or an API key turns it on, unless TEMPORAL_TLS=false says no. */
  tls: boolean;
  apiKey: string | undefined;
  /**
   * The connection settings as envconfig resolved them (profile file first, `TEMPORAL_*` variables over it), with the
   * defaults applied. Certificates stay paths (or inline data from the profile); lib/temporal.ts reads them.
   */
  profile: ClientConfigProfile;
  /** Where the profile came from: the file read (if any) and the profile's name. */
  source: { configFile: string | undefined; profile: string };
  /** A codec server for the `temporal` CLI (`npm run temporal`): TEMPORAL_CODEC_ENDPOINT and TEMPORAL_CODEC_AUTH. */
  codec: { endpoint: string; auth: string | undefined } | undefined;
  /** A workflow bundle prebuilt by `npm run build`; the worker bundles `workflows/` at start when unset. */
  workflowBundlePath: string | undefined;
  /** Deprecated variables in use, one sentence each; the entry points log them as warnings. */
  deprecations: string[];
}

/** The file envconfig reads when TEMPORAL_CONFIG_FILE is unset (Linux and macOS paths of its default). */
function defaultConfigFile(env: Record<string, string>): string | undefined {
  const base =
    process.platform === 'darwin'
      ? env.HOME && `${env.HOME}/Library/Application Support`
      : (env.XDG_CONFIG_HOME ?? (env.HOME && `${env.HOME}/.config`));
  return base ? `${base}/temporalio/temporal.toml` : undefined;
}

function describeSource(source: ConfigDataSource | undefined): string | undefined {
  return source && 'path' in source ? source.path : undefined;
}

/**
 * Resolves the Temporal settings from the parsed variables and the raw environment (envconfig reads HOME, the
 * profile file and `TEMPORAL_GRPC_META_*` from it). Returns the config, or the problems, one `NAME: reason` each.
 */
function resolveTemporalConfig(
  parsed: TemporalEnv,
  env: Record<string, string>,
): { config: TemporalConfig; problems: string[] } {
  const problems: string[] = [];
  const deprecations: string[] = [];
  // envconfig reads the standard names; the old ones are copied onto them, with a warning, unless both disagree.
  const standard: Record<string, string> = { ...env };
  for (const [old, current] of Object.entries(deprecatedTemporalVariables)) {
    const oldValue = env[old];
    if (oldValue === undefined) continue;
    delete standard[old];
    if (env[current] !== undefined && env[current] !== oldValue) {
      problems.push(
        `${old}: is a deprecated alias of ${current}, and both are set to different values; set only ${current}`,
      );
      continue;
    }
    standard[current] = oldValue;
    deprecations.push(`${old} is deprecated and will be removed in the next release: rename it ${current}`);
  }
  // envconfig takes only "true"/"1" as true; the values this schema accepts are normalized for it.
  if (parsed.TEMPORAL_TLS !== undefined) standard.TEMPORAL_TLS = String(parsed.TEMPORAL_TLS);

  const configFile = env.TEMPORAL_CONFIG_FILE ?? defaultConfigFile(env);
  // envconfig skips a missing file silently; one named explicitly must exist.
  if (env.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(env.TEMPORAL_CONFIG_FILE)) {
    problems.push(`TEMPORAL_CONFIG_FILE: ${env.TEMPORAL_CONFIG_FILE} does not exist`);
  }
  const profileName = parsed.TEMPORAL_PROFILE ?? 'default';
  let profile: ClientConfigProfile = {};
  if (problems.length === 0) {
    try {
      profile = loadClientConfigProfile({ overrideEnvVars: standard });
    } catch (err) {
      // One line per problem: smol-toml's messages go on with a picture of the bad line.
      const [reason = ''] = (err instanceof Error ? err.message : String(err)).split('\n');
      const name = /Profile '.*' not found/.test(reason) ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE';
      problems.push(`${name}: ${reason} (profile file ${configFile ?? 'none'})`);
    }
  }

  const tls = profile.tls;
  const fileChecks: [string, ConfigDataSource | undefined][] = [
    ['TEMPORAL_TLS_CLIENT_CERT_PATH', tls?.clientCert],
    ['TEMPORAL_TLS_CLIENT_KEY_PATH', tls?.clientKey],
    ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', tls?.serverCACert],
  ];
  for (const [name, source] of fileChecks) {
    const file = describeSource(source);
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      problems.push(`${name}: cannot read ${file} (set by the variable or the profile file)`);
    }
  }
  if (parsed.WORKFLOW_BUNDLE_PATH !== undefined && !existsSync(parsed.WORKFLOW_BUNDLE_PATH)) {
    problems.push(`WORKFLOW_BUNDLE_PATH: ${parsed.WORKFLOW_BUNDLE_PATH} does not exist (build it with npm run build)`);
  }
  if ((tls?.clientCert === undefined) !== (tls?.clientKey === undefined)) {
    const missing = tls?.clientCert === undefined ? 'TEMPORAL_TLS_CLIENT_CERT_PATH' : 'TEMPORAL_TLS_CLIENT_KEY_PATH';
    const other = missing === 'TEMPORAL_TLS_CLIENT_CERT_PATH' ? 'key' : 'certificate';
    problems.push(`${missing}: is required when the client ${other} is set (mTLS needs both)`);
  }

  const resolved: ClientConfigProfile = {
    ...profile,
    address: profile.address ?? 'localhost:7233',
    namespace: profile.namespace ?? 'default',
  };
  const tlsOn = tls !== undefined ? tls.disabled !== true : profile.apiKey !== undefined;
  return {
    problems,
    config: {
      address: resolved.address!,
      namespace: resolved.namespace!,
      taskQueue: parsed.TEMPORAL_TASK_QUEUE,
      tls: tlsOn,
      apiKey: profile.apiKey,
      profile: resolved,
      source: {
        configFile: configFile !== undefined && existsSync(configFile) ? configFile : undefined,
        profile: profileName,
      },
      codec: parsed.TEMPORAL_CODEC_ENDPOINT
        ? { endpoint: parsed.TEMPORAL_CODEC_ENDPOINT, auth: parsed.TEMPORAL_CODEC_AUTH }
        : undefined,
      workflowBundlePath: parsed.WORKFLOW_BUNDLE_PATH,
      deprecations,
    },
  };
}

/**
 * Parses and resolves the Temporal settings of an environment whose empty values are already removed. When a variable
 * itself is invalid, the config is undefined and the problems are empty: the caller's schema parse names it.
 */
export function resolveTemporalEnv(env: Record<string, string>): {
  config: TemporalConfig | undefined;
  problems: string[];
} {
  const parsed = temporalEnvSchema.safeParse(env);
  if (!parsed.success) {
    return { config: undefined, problems: [] };
  }
  const { config, problems } = resolveTemporalConfig(parsed.data, env);
  return { config: problems.length === 0 ? config : undefined, problems };
}
