import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../lib/config';
import { searchAttributeDefinitions } from '../../lib/domain/search-attributes';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks what can go wrong without one:
 * a missing service, an unpinned image, an env the app rejects at startup, an unregistered search attribute,
 * a dependency on a service that does not exist, a mounted file that is not in the repo.
 */

const root = path.resolve(__dirname, '..', '..');
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

type EnvSection = Record<string, string | number | boolean | null> | string[];
type PortSpec = string | number | { target?: number | string; published?: number | string; host_ip?: string };
type VolumeSpec = string | { type?: string; source?: string; target?: string };

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: EnvSection;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: PortSpec[];
  expose?: (string | number)[];
  volumes?: VolumeSpec[];
  healthcheck?: { test?: string | string[] };
  restart?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Compose's own interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`. */
function interpolate(text: string, env: Record<string, string>): string {
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
const requiredHostVariables = [
  ...new Set([...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1]!)),
];

/** What an operator's shell or .env provides: only the required variables, with values long enough for the schema. */
const hostEnv = Object.fromEntries(
  requiredHostVariables.map((name) => [name, `dummy-${name.toLowerCase()}-value-0123456789abcdef`]),
);

/** The file as written, before interpolation; `<<` merge keys resolved as Compose does. */
const rawCompose = parse(composeText, { merge: true }) as unknown;

function loadCompose(env: Record<string, string>): ComposeFile {
  return interpolateDeep(rawCompose, env) as ComposeFile;
}

const compose = loadCompose(hostEnv);

function service(name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

function environmentOf(s: ComposeService): Record<string, string | undefined> {
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

function dependenciesOf(s: ComposeService): Record<string, string> {
  const deps = s.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, spec]) => [d, spec.condition ?? 'service_started']));
}

function scriptOf(s: ComposeService): string {
  const parts = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return [...parts(s.entrypoint), ...parts(s.command)].join(' ');
}

/** Each port mapping; `hostIp` is '' when the mapping names none, which Docker binds on every interface. */
function portsOf(s: ComposeService): { hostIp: string; published: string; target: string }[] {
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

const loopback = ['127.0.0.1', '::1', 'localhost'];

function volumesOf(s: ComposeService): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source ?? '', target: v.target ?? '' };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

/** `repo/name:tag@digest` → tag (undefined when the image names no tag). */
function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutDigest.slice(colon + 1) : undefined;
}

const expectedServices = [
  'postgresql',
  'temporal',
  'temporal-admin-tools',
  'temporal-ui',
  'redis',
  'migrate',
  'api',
  'worker',
];
const appServices = ['api', 'worker'];

describe('docker-compose.yml', () => {
  it('defines every service of the production-like system', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(expectedServices));
  });

  it('pins every image to an explicit tag, never latest', () => {
    const unpinned = Object.entries(compose.services)
      .filter(([, s]) =>
        s.image === undefined ? s.build === undefined : [undefined, 'latest'].includes(imageTag(s.image)),
      )
      .map(([name, s]) => `${name}: ${s.image ?? '(no image, no build)'}`);
    expect(unpinned).toEqual([]);
  });

  it('runs Temporal 1.29 with matching admin tools, UI 2.42, Postgres 15 and Redis 7', () => {
    const server = imageTag(service('temporal').image ?? '');
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:/);
    expect(server).toMatch(/^1\.29\.\d+$/);
    expect(service('temporal-admin-tools').image).toMatch(/^temporalio\/admin-tools:/);
    expect(imageTag(service('temporal-admin-tools').image ?? '')?.split('-')[0]).toBe(server);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:2\.42\.\d+$/);
    expect(service('postgresql').image).toMatch(/^postgres:15(\.|$|-)/);
    expect(service('redis').image).toMatch(/^redis:7(\.|$|-)/);
  });

  it('refuses to start without the WhatsApp secrets', () => {
    expect(requiredHostVariables).toEqual(
      expect.arrayContaining(['WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_ACCESS_TOKEN']),
    );
    for (const name of ['WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN', 'WHATSAPP_ACCESS_TOKEN']) {
      const { [name]: _missing, ...rest } = hostEnv;
      expect(() => loadCompose(rest)).toThrow(name);
    }
  });

  it.each(appServices)(
    'gives %s an environment that lib/config.ts accepts, pointed at the compose services',
    (name) => {
      const s = service(name);
      expect(s.build).toBeDefined();
      const config = loadConfig(environmentOf(s));
      expect(config.env).toBe('production');
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.temporal.tls).toBe(false);
      expect(config.whatsapp.appSecret).toBe(hostEnv.WHATSAPP_APP_SECRET);

      const db = new URL(config.databaseUrl);
      expect(service(db.hostname).image).toMatch(/^postgres:/);
      expect(db.pathname).toBe(`/${environmentOf(service(db.hostname)).POSTGRES_DB}`);
      expect(decodeURIComponent(db.password)).toBe(environmentOf(service(db.hostname)).POSTGRES_PASSWORD);
      const redis = new URL(config.redisUrl);
      expect(service(redis.hostname).image).toMatch(/^redis:/);
    },
  );

  it('runs the API and the worker from the Dockerfile with tsx', () => {
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(dockerfile).toMatch(/npm ci/);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies).toHaveProperty('tsx');
    for (const [name, entry] of [
      ['api', 'api/main.ts'],
      ['worker', 'workers/main.ts'],
    ] as const) {
      expect(scriptOf(service(name))).toBe(`npx tsx ${entry}`);
      expect(existsSync(path.join(root, entry))).toBe(true);
    }
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', 'dist', 'coverage', '.git']));
  });

  it('publishes the API on 3000 with a readiness healthcheck that needs no curl', () => {
    const api = service('api');
    expect(portsOf(api)).toContainEqual({ hostIp: '', published: '3000', target: '3000' });
    const test = api.healthcheck?.test;
    expect(Array.isArray(test) ? test.join(' ') : test).toMatch(
      /node .*fetch\('http:\/\/127\.0\.0\.1:3000\/health\/ready'\)/,
    );
  });

  it('registers every search attribute of lib/domain/search-attributes.ts, idempotently', () => {
    const script = scriptOf(service('temporal-admin-tools'));
    expect(script).toContain('temporal operator search-attribute create --address temporal:7233');
    expect(script).toContain('already exists');
    const entries = Object.entries(searchAttributeDefinitions);
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, type] of entries) {
      expect(script).toContain(`--name ${name} --type ${type}`);
    }
    expect(service('temporal-admin-tools').restart ?? 'no').toBe('no');
    expect(dependenciesOf(service('worker'))).toMatchObject({
      'temporal-admin-tools': 'service_completed_successfully',
    });
  });

  it('publishes the Temporal Web UI on 127.0.0.1:8233 only, unless the operator binds it elsewhere', () => {
    const ui = service('temporal-ui');
    expect(portsOf(ui)).toEqual([{ hostIp: '127.0.0.1', published: '8233', target: '8080' }]);
    expect(environmentOf(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    const moved = loadCompose({ ...hostEnv, TEMPORAL_UI_BIND: '10.0.0.5', TEMPORAL_UI_PORT: '9233' });
    expect(portsOf(moved.services['temporal-ui']!)).toEqual([
      { hostIp: '10.0.0.5', published: '9233', target: '8080' },
    ]);
  });

  it('disables the Web UI write actions (signal, cancel, terminate, reset, start) unless the operator opts in', () => {
    expect(environmentOf(service('temporal-ui')).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    const optedIn = loadCompose({ ...hostEnv, TEMPORAL_DISABLE_WRITE_ACTIONS: 'false' });
    expect(environmentOf(optedIn.services['temporal-ui']!).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('false');
  });

  it("hands the operator's OIDC settings to the Web UI (temporalio/ui docker.yaml template), off by default", () => {
    // The names the pinned image's config template (server/config/docker.yaml of temporalio/ui v2.42.1) reads.
    const oidc = {
      TEMPORAL_AUTH_ENABLED: 'true',
      TEMPORAL_AUTH_PROVIDER_URL: 'https://accounts.example.com',
      TEMPORAL_AUTH_ISSUER_URL: 'https://accounts.example.com',
      TEMPORAL_AUTH_CLIENT_ID: 'hotel-ui',
      TEMPORAL_AUTH_CLIENT_SECRET: 'oidc-client-secret-value',
      TEMPORAL_AUTH_CALLBACK_URL: 'https://temporal.example.com/auth/sso/callback',
      TEMPORAL_AUTH_SCOPES: 'openid,email',
    };
    const off = environmentOf(service('temporal-ui'));
    expect(off.TEMPORAL_AUTH_ENABLED).toBe('false');
    expect(off.TEMPORAL_AUTH_SCOPES).toBe('openid,profile,email');
    const on = environmentOf(loadCompose({ ...hostEnv, ...oidc }).services['temporal-ui']!);
    expect(on).toMatchObject(oidc);
  });

  it('publishes nothing but the API beyond loopback', () => {
    const exposed = Object.entries(compose.services).flatMap(([name, s]) =>
      portsOf(s)
        .filter((p) => p.published !== '' && !loopback.includes(p.hostIp))
        .map((p) => `${name}: ${p.hostIp || '*'}:${p.published}->${p.target}`),
    );
    expect(exposed).toEqual(['api: *:3000->3000']);
  });

  it("keeps the worker's /metrics on the compose network: listening on all its interfaces, published on none", () => {
    const worker = service('worker');
    const config = loadConfig(environmentOf(worker));
    expect(config.workerMetricsHost).toBe('0.0.0.0');
    expect(config.workerMetricsPort).toBeGreaterThan(0);
    expect(portsOf(worker)).toEqual([]);
    expect((worker.expose ?? []).map(String)).toEqual([String(config.workerMetricsPort)]);
    // The API serves no metrics of this kind; the variable is the worker's alone.
    expect(environmentOf(service('api')).WORKER_METRICS_HOST).toBeUndefined();
  });

  it('refuses to start without the Postgres and Redis passwords, and gives no secret a default', () => {
    expect(requiredHostVariables).toEqual(expect.arrayContaining(['POSTGRES_PASSWORD', 'REDIS_PASSWORD']));
    for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD']) {
      const { [name]: _missing, ...rest } = hostEnv;
      expect(() => loadCompose(rest)).toThrow(name);
      expect(() => loadCompose({ ...rest, [name]: '' })).toThrow(name);
    }
    // Every reference to a secret-looking variable is either required (`:?`) or optional with an empty default.
    const secretName = /PASSWORD|PWD|SECRET|TOKEN|API_KEY/;
    const defaulted = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}/g)]
      .filter(([, name, op, arg]) => secretName.test(name!) && (op === undefined || op.endsWith('-')) && arg !== '')
      .map(([ref]) => ref);
    expect(defaulted).toEqual([]);
    // No secret is written into the file: each secret-looking variable a service gets comes from the host.
    const literal: string[] = [];
    for (const [name, s] of Object.entries((rawCompose as ComposeFile).services)) {
      for (const [key, value] of Object.entries(environmentOf(s))) {
        const fromHost = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$/.test(value ?? '');
        if (secretName.test(key) && value !== undefined && !fromHost) literal.push(`${name}.${key}`);
      }
    }
    expect(literal).toEqual([]);
  });

  it('puts a password on Redis, in the URL of the API and the worker and in its healthcheck', () => {
    const redis = service('redis');
    const password = hostEnv.REDIS_PASSWORD!;
    expect(scriptOf(redis)).toContain(`--requirepass ${password}`);
    const healthcheck = redis.healthcheck?.test;
    const check = Array.isArray(healthcheck) ? healthcheck.join(' ') : (healthcheck ?? '');
    expect(check).toMatch(/redis-cli/);
    // The healthcheck reads the password from the container's environment, not from its own command line.
    expect(check).toContain('REDISCLI_AUTH');
    expect(environmentOf(redis).REDIS_PASSWORD).toBe(password);
    for (const name of appServices) {
      const url = new URL(loadConfig(environmentOf(service(name))).redisUrl);
      expect(decodeURIComponent(url.password)).toBe(password);
    }
  });

  it('applies the database migrations before the API and the worker start', () => {
    expect(compose.services.migrate?.command).toEqual(['npx', 'tsx', 'scripts/migrate.ts']);
    for (const name of appServices) {
      expect((compose.services[name]?.depends_on as Record<string, { condition: string }>)?.migrate).toEqual({
        condition: 'service_completed_successfully',
      });
    }
  });

  it('depends only on services that exist, with conditions they can meet', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, condition] of Object.entries(dependenciesOf(s))) {
        const target = compose.services[dep];
        if (!target) problems.push(`${name} depends on ${dep}, which is not a service`);
        if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
          problems.push(`${name} waits for ${dep} with unknown condition ${condition}`);
        }
        if (condition === 'service_healthy' && target && target.healthcheck?.test === undefined) {
          problems.push(`${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(dependenciesOf(service('temporal'))).toMatchObject({ postgresql: 'service_healthy' });
  });

  it('keeps Postgres and Redis data in named volumes, with healthchecks and Redis persistence', () => {
    for (const name of ['postgresql', 'redis']) {
      const s = service(name);
      expect(s.healthcheck?.test).toBeDefined();
      const named = volumesOf(s).filter((v) => !/^[./~]/.test(v.source));
      expect(named.length).toBeGreaterThan(0);
      for (const v of named) expect(Object.keys(compose.volumes ?? {})).toContain(v.source);
    }
    expect(volumesOf(service('postgresql')).map((v) => v.target)).toContain('/var/lib/postgresql/data');
    expect(scriptOf(service('redis'))).toMatch(/--appendonly yes/);
  });

  it('points Temporal at Postgres and at a dynamic config file that is in the repo', () => {
    const temporal = service('temporal');
    const env = environmentOf(temporal);
    expect(env).toMatchObject({ DB: 'postgres12', DB_PORT: '5432', POSTGRES_SEEDS: 'postgresql' });
    expect(env.POSTGRES_PWD).toBe(environmentOf(service('postgresql')).POSTGRES_PASSWORD);

    // auto-setup resolves a relative path from its working directory, /etc/temporal.
    const configured = env.DYNAMIC_CONFIG_FILE_PATH ?? '';
    expect(configured).not.toBe('');
    const inContainer = path.posix.resolve('/etc/temporal', configured);
    const mount = volumesOf(temporal).find((v) => inContainer.startsWith(`${v.target}/`));
    expect(mount).toBeDefined();
    const onHost = path.resolve(root, mount!.source, path.posix.relative(mount!.target, inContainer));
    expect(onHost.startsWith(root + path.sep)).toBe(true);
    expect(existsSync(onHost)).toBe(true);

    const dynamicConfig = parse(readFileSync(onHost, 'utf8')) as Record<string, { value: unknown }[]>;
    expect(Object.keys(dynamicConfig)).toEqual(
      expect.arrayContaining(['limit.maxIDLength', 'system.forceSearchAttributesCacheRefreshOnRead']),
    );
    for (const values of Object.values(dynamicConfig)) {
      expect(Array.isArray(values)).toBe(true);
      for (const v of values) expect(v).toHaveProperty('value');
    }
  });
});
