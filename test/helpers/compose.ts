import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * docker-compose.yml read the way `docker compose` reads it (YAML with `<<` merge keys, then Compose's variable
 * interpolation), so tests can check the deployment without a Docker engine, and run its one-shot scripts.
 */

type EnvSection = Record<string, string | number | boolean | null> | string[];
type PortSpec = string | number | { target?: number | string; published?: number | string; host_ip?: string };
type VolumeSpec = string | { type?: string; source?: string; target?: string };
type EnvFileSpec = string | { path: string; required?: boolean };

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: EnvSection;
  env_file?: EnvFileSpec | EnvFileSpec[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: PortSpec[];
  expose?: (string | number)[];
  volumes?: VolumeSpec[];
  healthcheck?: { test?: string | string[] };
  restart?: string;
  profiles?: string[];
  container_name?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const projectRoot = path.resolve(__dirname, '..', '..');
export const composeText = readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8');

/** Compose's own interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`. */
export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      const unset = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
      if (!unset) return value ?? '';
      if (op === ':-' || op === '-') return arg ?? '';
      if (op === ':?' || op === '?') throw new Error(`required variable ${name} is missing a value: ${arg ?? ''}`);
      return '';
    },
  );
}

function interpolateDeep(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}

/** The variables compose refuses to start without (`${VAR:?message}`). */
export const requiredHostVariables = [
  ...new Set([...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1]!)),
];

/** What an operator's shell or .env provides: only the required variables, with values the schema accepts. */
export const hostEnv: Record<string, string> = Object.fromEntries(
  requiredHostVariables.map((name) => [
    name,
    name === 'PAYLOAD_KEYS'
      ? 'k1:eePvX0inWwKQGekqagTpCE0/ZIqPGlaOfKhm3XvWnjk='
      : `dummy-${name.toLowerCase()}-value-0123456789abcdef`,
  ]),
);

/** The file as written, before interpolation; `<<` merge keys resolved as Compose does. */
export const rawCompose = parse(composeText, { merge: true }) as ComposeFile;

export function loadCompose(env: Record<string, string>): ComposeFile {
  return interpolateDeep(rawCompose, env) as ComposeFile;
}

/** `KEY=value` lines of an env file (Compose's `--env-file` format: comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

export function environmentOf(s: ComposeService): Record<string, string | undefined> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i === -1 ? [entry, undefined] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? undefined : String(v)]));
}

export function dependenciesOf(s: ComposeService): Record<string, string> {
  const deps = s.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, spec]) => [d, spec.condition ?? 'service_started']));
}

export function scriptOf(s: ComposeService): string {
  const parts = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return [...parts(s.entrypoint), ...parts(s.command)].join(' ');
}

/** The shell script a one-shot service runs (`entrypoint: ['/bin/sh', '-c']`, `command: [script]`). */
export function shellScriptOf(s: ComposeService): string {
  const entrypoint = Array.isArray(s.entrypoint) ? s.entrypoint : [];
  const command = Array.isArray(s.command) ? s.command : [];
  if (entrypoint.join(' ') !== '/bin/sh -c' || command.length !== 1) {
    throw new Error('not a service that runs one shell script');
  }
  return command[0]!;
}

/** Each port mapping; `hostIp` is '' when the mapping names none, which Docker binds on every interface. */
export function portsOf(s: ComposeService): { hostIp: string; published: string; target: string }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: String(p.target ?? '') };
    }
    const text = String(p).replace(/\/(tcp|udp)$/, '');
    // An IPv6 host address is bracketed: [::1]:8233:8080.
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(text);
    const parts = v6 ? [v6[1]!, ...v6[2]!.split(':')] : text.split(':');
    const target = parts[parts.length - 1] ?? '';
    const published = parts.length > 1 ? (parts[parts.length - 2] ?? '') : '';
    return { hostIp: parts.length > 2 ? (parts[0] ?? '') : '', published, target };
  });
}

export function volumesOf(s: ComposeService): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? '', target: v.target ?? '' };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

export function envFilesOf(s: ComposeService): { path: string; required: boolean }[] {
  const files = s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file];
  return files.map((f) =>
    typeof f === 'string' ? { path: f, required: true } : { path: f.path, required: f.required ?? true },
  );
}

/** `repo/name:tag@digest` → tag (undefined when the image names no tag). */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutDigest.slice(colon + 1) : undefined;
}
