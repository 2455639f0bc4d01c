import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../lib/config';
import { searchAttributeDefinitions } from '../../lib/domain/search-attributes';
import {
  composeText,
  dependenciesOf,
  envFilesOf,
  environmentOf,
  hostEnv,
  imageTag,
  loadCompose,
  parseEnvFile,
  portsOf,
  projectRoot as root,
  rawCompose,
  requiredHostVariables,
  scriptOf,
  shellScriptOf,
  volumesOf,
  type ComposeService,
} from '../helpers/compose';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks what can go wrong without one: a missing
 * service, an unpinned image, an env the app rejects at startup, an unregistered search attribute, a dependency on a
 * service that is not healthy yet, a mounted file that is not in the repo, a port open to the world, a secret in the
 * file. test/integration/compose-jobs.test.ts runs the one-shot Temporal setup script against a real server.
 */

const compose = loadCompose(hostEnv);
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function service(name: string, file = compose): ComposeService {
  const s = file.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

const loopback = ['127.0.0.1', '::1', 'localhost'];
const baseServices = [
  'postgresql',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'redis',
  'migrate',
  'api',
  'worker',
];
const appServices = ['api', 'worker'];
const isOneShot = (s: ComposeService) => s.restart === 'no';
const profilesOf = (name: string) => service(name).profiles ?? [];

describe('docker-compose.yml', () => {
  it('runs the production system by default, Prometheus and Grafana under `monitoring`, the stand-ins under `demo`', () => {
    const byProfile = (profile: string | undefined) =>
      Object.keys(compose.services)
        .filter((name) => (profile === undefined ? profilesOf(name).length === 0 : profilesOf(name).includes(profile)))
        .sort();
    expect(byProfile(undefined)).toEqual([...baseServices].sort());
    expect(byProfile('monitoring')).toEqual(['grafana', 'prometheus']);
    expect(byProfile('demo')).toEqual(['demo-seed', 'pms-standin', 'whatsapp-standin']);
  });

  it('pins every image to an explicit tag, never latest, and builds the app image from the Dockerfile runtime stage', () => {
    const unpinned = Object.entries(compose.services)
      .filter(([, s]) => s.image === undefined || [undefined, 'latest'].includes(imageTag(s.image)))
      .map(([name, s]) => `${name}: ${s.image ?? '(no image)'}`);
    expect(unpinned).toEqual([]);
    const built = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual(
      ['api', 'demo-seed', 'migrate', 'pms-standin', 'whatsapp-standin', 'worker'].sort(),
    );
    for (const [, s] of built) {
      expect(s.build).toEqual({ context: '.', target: 'runtime' });
      expect(s.image).toBe('hotel-messaging:local');
    }
  });

  it('runs the Temporal server 1.29 (not auto-setup) with admin tools of the same version, UI 2.42, Postgres 15, Redis 7', () => {
    const server = imageTag(service('temporal').image ?? '');
    expect(service('temporal').image).toMatch(/^temporalio\/server:1\.29\.\d+$/);
    for (const job of ['temporal-schema', 'temporal-setup']) {
      expect(service(job).image).toMatch(/^temporalio\/admin-tools:/);
      expect(imageTag(service(job).image ?? '')?.split('-')[0]).toBe(server);
    }
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:2\.42\.\d+$/);
    expect(service('postgresql').image).toMatch(/^postgres:15(\.|$|-)/);
    expect(service('redis').image).toMatch(/^redis:7(\.|$|-)/);
  });

  it("creates Temporal's databases and brings their schemas up to date in a one-shot job before the server starts", () => {
    const job = service('temporal-schema');
    expect(isOneShot(job)).toBe(true);
    expect(dependenciesOf(job)).toEqual({ postgresql: 'service_healthy' });
    expect(environmentOf(job)).toMatchObject({
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: 'postgresql',
      SQL_USER: environmentOf(service('postgresql')).POSTGRES_USER,
      SQL_PASSWORD: environmentOf(service('postgresql')).POSTGRES_PASSWORD,
    });
    const script = shellScriptOf(job);
    expect(script).toMatch(/^set -eu$/m);
    expect(script).toContain('for db in temporal temporal_visibility; do');
    for (const [db, schema] of [
      ['temporal', 'postgresql/v12/temporal'],
      ['temporal_visibility', 'postgresql/v12/visibility'],
    ] as const) {
      expect(script).toMatch(new RegExp(`${db}\\) schema=${schema} ;;|\\*\\) schema=${schema} ;;`));
    }
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema --schema-name "$schema"']) {
      expect(script).toContain(`temporal-sql-tool --db "$db" ${step}`);
    }
    // The database names the server reads (its config template's defaults, DBNAME and VISIBILITY_DBNAME unset).
    expect(environmentOf(service('temporal'))).not.toHaveProperty('DBNAME');
    expect(dependenciesOf(service('temporal'))).toEqual({
      postgresql: 'service_healthy',
      'temporal-schema': 'service_completed_successfully',
    });
  });

  it('points the Temporal server at Postgres and at a dynamic config file that is in the repo', () => {
    const temporal = service('temporal');
    const env = environmentOf(temporal);
    expect(env).toMatchObject({
      DB: 'postgres12',
      DB_PORT: '5432',
      POSTGRES_SEEDS: 'postgresql',
      NUM_HISTORY_SHARDS: '4',
    });
    expect(env.POSTGRES_PWD).toBe(environmentOf(service('postgresql')).POSTGRES_PASSWORD);
    expect(
      environmentOf(service('temporal', loadCompose({ ...hostEnv, TEMPORAL_HISTORY_SHARDS: '512' })))
        .NUM_HISTORY_SHARDS,
    ).toBe('512');

    // The server image resolves a relative path from its working directory, /etc/temporal.
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

  it('registers the namespace and exactly the search attributes of lib/domain/search-attributes.ts, idempotently', () => {
    const job = service('temporal-setup');
    expect(isOneShot(job)).toBe(true);
    expect(dependenciesOf(job)).toEqual({ temporal: 'service_healthy' });
    expect(environmentOf(job)).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_RETENTION: '168h' });
    const script = shellScriptOf(job);
    expect(script).toContain('temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention');
    expect(script).toContain('already exists');
    const registered = [...script.matchAll(/^register (\S+) (\S+)$/gm)].map(([, name, type]) => [name, type]);
    expect(Object.fromEntries(registered)).toEqual(searchAttributeDefinitions);
    for (const name of appServices) {
      expect(dependenciesOf(service(name))).toMatchObject({ 'temporal-setup': 'service_completed_successfully' });
    }
  });

  it('publishes the Temporal Web UI on 127.0.0.1:8233 only, unless the operator binds it elsewhere', () => {
    const ui = service('temporal-ui');
    expect(portsOf(ui)).toEqual([{ hostIp: '127.0.0.1', published: '8233', target: '8080' }]);
    expect(environmentOf(ui).TEMPORAL_ADDRESS).toBe('temporal:7233');
    const moved = loadCompose({ ...hostEnv, TEMPORAL_UI_BIND: '10.0.0.5', TEMPORAL_UI_PORT: '9233' });
    expect(portsOf(service('temporal-ui', moved))).toEqual([{ hostIp: '10.0.0.5', published: '9233', target: '8080' }]);
  });

  it('disables the Web UI write actions (signal, cancel, terminate, reset, start) unless the operator opts in', () => {
    expect(environmentOf(service('temporal-ui')).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    const optedIn = loadCompose({ ...hostEnv, TEMPORAL_DISABLE_WRITE_ACTIONS: 'false' });
    expect(environmentOf(service('temporal-ui', optedIn)).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('false');
  });

  it("decodes payloads in the Web UI through the API's /codec, sending the operator's session cookie", () => {
    const ui = environmentOf(service('temporal-ui'));
    const [apiPort] = portsOf(service('api'));
    // The browser calls the codec endpoint: the API where the operator's browser reaches it.
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${apiPort!.published}/codec`);
    expect(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
    expect(ui.TEMPORAL_CODEC_PASS_ACCESS_TOKEN).toBe('false');
    expect(ui.TEMPORAL_CODEC_DEFAULT_ERROR_LINK).toBe(`http://localhost:${apiPort!.published}/codec/login`);
    const behindProxy = environmentOf(
      service(
        'temporal-ui',
        loadCompose({
          ...hostEnv,
          TEMPORAL_CODEC_ENDPOINT: 'https://hotel.example.com/codec',
          TEMPORAL_CODEC_LOGIN_URL: 'https://hotel.example.com/codec/login',
          TEMPORAL_CODEC_PASS_ACCESS_TOKEN: 'true',
        }),
      ),
    );
    expect(behindProxy).toMatchObject({
      TEMPORAL_CODEC_ENDPOINT: 'https://hotel.example.com/codec',
      TEMPORAL_CODEC_DEFAULT_ERROR_LINK: 'https://hotel.example.com/codec/login',
      TEMPORAL_CODEC_PASS_ACCESS_TOKEN: 'true',
    });
  });

  it('gives the API and the worker the payload keys, and refuses to start without them', () => {
    expect(requiredHostVariables).toContain('PAYLOAD_KEYS');
    const { PAYLOAD_KEYS: _missing, ...rest } = hostEnv;
    expect(() => loadCompose(rest)).toThrow('PAYLOAD_KEYS');
    for (const name of ['api', 'worker']) {
      expect(loadConfig(environmentOf(service(name))).payloadKeys.ids).toEqual(['k1']);
    }
  });

  it("has the codec endpoint answer the Web UI's origin as published, with a Secure login cookie", () => {
    const api = loadConfig(environmentOf(service('api')));
    const [uiPort] = portsOf(service('temporal-ui'));
    expect(api.codec.corsOrigins).toContain(`http://localhost:${uiPort!.published}`);
    expect(api.codec.cookieSecure).toBe(true);
    const moved = loadCompose({ ...hostEnv, CODEC_CORS_ORIGINS: 'https://temporal.example.com' });
    expect(loadConfig(environmentOf(service('api', moved))).codec.corsOrigins).toEqual([
      'https://temporal.example.com',
    ]);
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
    expect(environmentOf(service('temporal-ui', loadCompose({ ...hostEnv, ...oidc })))).toMatchObject(oidc);
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

  it('runs every app service as plain JavaScript from the build (node dist/…), never tsx', () => {
    const { files } = JSON.parse(read('tsconfig.build.json')) as { files: string[] };
    const built = new Set(files.map((f) => `dist/${f.replace(/\.ts$/, '.js')}`));
    for (const [name, s] of Object.entries(compose.services).filter(([, s]) => s.build !== undefined)) {
      const command = s.command as string[];
      expect([name, command[0]]).toEqual([name, 'node']);
      expect([name, built.has(command[1]!)]).toEqual([name, true]);
      expect(scriptOf(s)).not.toMatch(/tsx|\.ts\b/);
    }
  });

  it('applies the database migrations before the API and the worker start', () => {
    expect(service('migrate').command).toEqual(['node', 'dist/scripts/migrate.js']);
    for (const name of appServices) {
      expect(dependenciesOf(service(name))).toMatchObject({ migrate: 'service_completed_successfully' });
    }
  });

  it('scales the worker with --scale worker=N: no container name anywhere, no host port on the worker', () => {
    expect(Object.entries(compose.services).filter(([, s]) => s.container_name !== undefined)).toEqual([]);
    expect(composeText).not.toMatch(/container_name/);
    expect(portsOf(service('worker'))).toEqual([]);
    expect(portsOf(service('api'))).toEqual([{ hostIp: '', published: '3000', target: '3000' }]);
  });

  it("keeps the worker's /metrics on the compose network: listening on all its interfaces, published on none", () => {
    const worker = service('worker');
    const config = loadConfig(environmentOf(worker));
    expect(config.workerMetricsHost).toBe('0.0.0.0');
    expect(config.workerMetricsPort).toBeGreaterThan(0);
    expect((worker.expose ?? []).map(String)).toEqual([String(config.workerMetricsPort)]);
    expect(environmentOf(service('api')).WORKER_METRICS_HOST).toBeUndefined();
  });

  it("keeps the API's /metrics off its public port: a listener of its own on the compose network, published on none", () => {
    const api = service('api');
    const config = loadConfig(environmentOf(api));
    expect(config.observability.apiMetricsHost).toBe('0.0.0.0');
    expect(config.observability.apiMetricsPort).not.toBe(config.api.port);
    expect((api.expose ?? []).map(String)).toEqual([String(config.observability.apiMetricsPort)]);
    expect(portsOf(api).map((p) => p.target)).toEqual([String(config.api.port)]);
  });

  it("gives tenants' own secrets (TENANT_<ID>_<NAME>) to the worker from tenants.env, which stays out of git and the image", () => {
    expect(envFilesOf(service('worker'))).toEqual([{ path: './tenants.env', required: false }]);
    // Compose lists the rest of the environment explicitly: a tenant's variable could reach the worker no other way.
    for (const s of Object.values(rawCompose.services)) {
      expect(Object.keys(environmentOf(s)).filter((k) => k.startsWith('TENANT_'))).toEqual([]);
    }
    expect(read('.gitignore').split('\n')).toContain('tenants.env');
    expect(read('.dockerignore').split('\n')).toContain('tenants.env');
  });

  it('checks the health of every long-running service, and starts each service only once what it needs is healthy', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(compose.services)) {
      if (!isOneShot(s) && s.healthcheck?.test === undefined) problems.push(`${name} has no healthcheck`);
      for (const [dep, condition] of Object.entries(dependenciesOf(s))) {
        const target = compose.services[dep];
        if (!target) {
          problems.push(`${name} depends on ${dep}, which is not a service`);
          continue;
        }
        const wanted = isOneShot(target) ? 'service_completed_successfully' : 'service_healthy';
        if (condition !== wanted) problems.push(`${name} waits for ${dep} with ${condition}, not ${wanted}`);
        const profiles = target.profiles ?? [];
        if (profiles.length > 0 && !profiles.some((p) => (s.profiles ?? []).includes(p))) {
          problems.push(`${name} depends on ${dep}, which only runs under profile ${profiles.join(', ')}`);
        }
      }
    }
    expect(problems).toEqual([]);
    const worker = service('worker').healthcheck?.test as string[];
    // Readiness, not /metrics: the worker is healthy once its dependencies answer and its pollers take tasks.
    expect(worker.join(' ')).toContain(
      `http://127.0.0.1:${loadConfig(environmentOf(service('worker'))).workerMetricsPort}/health/ready`,
    );
    const api = service('api').healthcheck?.test as string[];
    expect(api).toEqual(['CMD', 'node', 'dist/scripts/healthcheck.js', 'http://127.0.0.1:3000/health/ready']);
  });

  it('publishes nothing but the API beyond loopback, whichever profiles run', () => {
    const exposed = Object.entries(compose.services).flatMap(([name, s]) =>
      portsOf(s)
        .filter((p) => p.published !== '' && !loopback.includes(p.hostIp))
        .map((p) => `${name}: ${p.hostIp || '*'}:${p.published}->${p.target}`),
    );
    expect(exposed).toEqual(['api: *:3000->3000']);
  });

  it('refuses to start without the Postgres and Redis passwords, and gives no secret a default', () => {
    expect(requiredHostVariables).toEqual(expect.arrayContaining(['POSTGRES_PASSWORD', 'REDIS_PASSWORD']));
    for (const name of ['POSTGRES_PASSWORD', 'REDIS_PASSWORD']) {
      const { [name]: _missing, ...rest } = hostEnv;
      expect(() => loadCompose(rest)).toThrow(name);
      expect(() => loadCompose({ ...rest, [name]: '' })).toThrow(name);
    }
    // Every reference to a secret-looking variable is either required (`:?`) or optional with an empty default.
    const secretName = /PASSWORD|PWD|SECRET|TOKEN|API_KEY|_KEY$/;
    // Named like a secret, but a switch: whether the Web UI passes the OIDC access token to the codec endpoint.
    const switches = ['TEMPORAL_CODEC_PASS_ACCESS_TOKEN'];
    const defaulted = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}/g)]
      .filter(([, name]) => secretName.test(name!) && !switches.includes(name!))
      .filter(([, , op, arg]) => (op === undefined || op.endsWith('-')) && arg !== '')
      .map(([ref]) => ref);
    expect(defaulted).toEqual([]);
    // No secret is written into the file: each secret-looking variable a service gets comes from the host.
    const literal: string[] = [];
    for (const [name, s] of Object.entries(rawCompose.services)) {
      for (const [key, value] of Object.entries(environmentOf(s))) {
        const fromHost = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$/.test(value ?? '');
        if (secretName.test(key) && !switches.includes(key) && value !== undefined && !fromHost) {
          literal.push(`${name}.${key}`);
        }
      }
    }
    expect(literal).toEqual([]);
  });

  it('puts a password on Redis, in the URL of the API and the worker and in its healthcheck, and persists with AOF', () => {
    const redis = service('redis');
    const password = hostEnv.REDIS_PASSWORD!;
    expect(scriptOf(redis)).toContain(`--requirepass ${password}`);
    expect(scriptOf(redis)).toMatch(/--appendonly yes --appendfsync everysec/);
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

  it('keeps Postgres, Redis, media, Prometheus and Grafana data in named volumes', () => {
    for (const name of ['postgresql', 'redis', 'worker', 'prometheus', 'grafana']) {
      const named = volumesOf(service(name)).filter((v) => !/^[./~]/.test(v.source));
      expect([name, named.length]).toEqual([name, 1]);
      for (const v of named) expect(Object.keys(compose.volumes ?? {})).toContain(v.source);
    }
    expect(volumesOf(service('postgresql')).map((v) => v.target)).toContain('/var/lib/postgresql/data');
  });

  describe('the monitoring profile', () => {
    const prometheusConfigPath = () => {
      const args = service('prometheus').command as string[];
      const inContainer = /^--config\.file=(.+)$/.exec(args.find((a) => a.startsWith('--config.file='))!)![1]!;
      const mount = volumesOf(service('prometheus')).find((v) => inContainer.startsWith(`${v.target}/`))!;
      return path.resolve(root, mount.source, path.posix.relative(mount.target, inContainer));
    };

    it("has Prometheus read deploy/prometheus.yml from the repo and scrape the API, every worker replica and Temporal's server", () => {
      const file = prometheusConfigPath();
      expect(path.relative(root, file)).toBe(path.join('deploy', 'prometheus.yml'));
      const config = parse(readFileSync(file, 'utf8')) as {
        rule_files: string[];
        scrape_configs: {
          job_name: string;
          metrics_path?: string;
          dns_sd_configs?: { names: string[]; type: string; port: number }[];
          static_configs?: { targets: string[] }[];
        }[];
      };
      const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);
      // DNS discovery: one target per container of the service, so `--scale worker=3` is three targets.
      const apiMetricsPort = loadConfig(environmentOf(service('api'))).observability.apiMetricsPort;
      expect(job('api')?.dns_sd_configs).toEqual([{ names: ['api'], type: 'A', port: apiMetricsPort }]);
      const workerPort = loadConfig(environmentOf(service('worker'))).workerMetricsPort;
      expect(job('worker')?.dns_sd_configs).toEqual([{ names: ['worker'], type: 'A', port: workerPort }]);
      expect(job('worker')?.metrics_path).toBe('/metrics');
      expect(job('temporal')?.static_configs).toEqual([{ targets: ['temporal:8000'] }]);
      expect(environmentOf(service('temporal')).PROMETHEUS_ENDPOINT).toBe('0.0.0.0:8000');
      expect((service('temporal').expose ?? []).map(String)).toContain('8000');
      // Alert rules come from deploy/ too.
      expect(config.rule_files).toEqual(['alerts/*.yml']);
      expect(existsSync(path.join(path.dirname(file), 'alerts'))).toBe(true);
    });

    it('provisions Grafana with Prometheus as its data source and the dashboards in deploy/grafana/dashboards', () => {
      const grafana = environmentOf(service('grafana'));
      const mount = volumesOf(service('grafana')).find((v) => v.source === './deploy')!;
      const onHost = (inContainer: string) =>
        path.resolve(root, mount.source, path.posix.relative(mount.target, inContainer));
      const provisioning = onHost(grafana.GF_PATHS_PROVISIONING!);
      const datasources = parse(readFileSync(path.join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as {
        datasources: { type: string; url: string }[];
      };
      expect(datasources.datasources).toEqual([
        expect.objectContaining({
          type: 'prometheus',
          url: `http://prometheus:${portsOf(service('prometheus'))[0]!.target}`,
        }),
      ]);
      const dashboards = parse(readFileSync(path.join(provisioning, 'dashboards', 'hotel-messaging.yml'), 'utf8')) as {
        providers: { options: { path: string } }[];
      };
      expect(path.relative(root, onHost(dashboards.providers[0]!.options.path))).toBe(
        path.join('deploy', 'grafana', 'dashboards'),
      );
      // No account in use: anonymous viewers on the loopback port, no login form.
      expect(grafana).toMatchObject({ GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer', GF_AUTH_DISABLE_LOGIN_FORM: 'true' });
    });

    it('publishes Prometheus and Grafana on loopback only', () => {
      for (const name of ['prometheus', 'grafana']) {
        expect(portsOf(service(name)).map((p) => p.hostIp)).toEqual(['127.0.0.1']);
      }
    });
  });

  describe('the demo profile', () => {
    const demoEnv = parseEnvFile(read('deploy/demo.env'));

    it('points the API and the worker at the stand-ins with deploy/demo.env, which holds no secret', () => {
      expect(Object.keys(demoEnv).filter((k) => /SECRET|TOKEN|PASSWORD|KEY/.test(k))).toEqual([]);
      const demo = loadCompose({ ...hostEnv, ...demoEnv });
      const config = loadConfig(environmentOf(service('worker', demo)));
      const whatsapp = service('whatsapp-standin', demo);
      const port = environmentOf(whatsapp).STANDIN_PORT;
      expect(config.whatsapp.graphBaseUrl).toBe(`http://whatsapp-standin:${port}`);
      expect(config.media.allowedHosts).toEqual(['whatsapp-standin']);
      expect(config.pms.allowPrivateNetworks).toBe(true);
      // The stand-in accepts the token the worker sends.
      expect(environmentOf(whatsapp).WHATSAPP_ACCESS_TOKEN).toBe(config.whatsapp.accessToken);
    });

    it("seeds the demo hotel with its PMS at the PMS stand-in, which reads the hotel's key from tenants.env", () => {
      const seed = service('demo-seed');
      expect(seed.command).toEqual(['node', 'dist/scripts/migrate.js', '--seed-demo']);
      const port = environmentOf(service('pms-standin')).STANDIN_PORT;
      expect(environmentOf(seed).DEMO_PMS_BASE_URL).toBe(`http://pms-standin:${port}`);
      expect(envFilesOf(service('pms-standin'))).toEqual(envFilesOf(service('worker')));
      expect(read('dev/standin-main.ts')).toContain('demoPmsKeyVariable');
    });
  });
});
