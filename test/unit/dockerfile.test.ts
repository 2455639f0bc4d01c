import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { copiedFromContext, parseDockerfile, projectDockerfile, type Stage } from '../helpers/dockerfile';

/**
 * There is no Docker engine here, so the image is checked in two halves: this file reads the Dockerfile for what the
 * image will be (stages, base image, user, healthcheck, what the runtime stage holds), and
 * test/integration/production-build.test.ts runs the same build steps and the built JavaScript.
 */

const root = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const dockerfile = projectDockerfile(root);
const build = dockerfile.stages.find((s) => s.name === 'build');
const runtime = dockerfile.stages.at(-1)!;
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const commands = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('the Dockerfile', () => {
  it('has a build stage and a final runtime stage', () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(['build', 'runtime']);
  });

  it('builds both stages on a pinned Node LTS slim image (22 or 24), the version the tests also run on', () => {
    const version = dockerfile.args.NODE_VERSION ?? '';
    expect(version).toMatch(/^(22|24)\.\d+\.\d+$/);
    for (const stage of dockerfile.stages) {
      expect(stage.image).toBe(`node:${version}-bookworm-slim`);
    }
    // scripts/ensure-deps.sh reads the version from this line to install the same Node for `bash scripts/test.sh`.
    const ensureDeps = read('scripts/ensure-deps.sh');
    const sed = /node_lts="\$\(sed -nE '([^']+)' Dockerfile\)"/.exec(ensureDeps);
    expect(sed).not.toBeNull();
    const extracted = spawnSync('sed', ['-nE', sed![1]!, 'Dockerfile'], { cwd: root, encoding: 'utf8' });
    expect(extracted.stdout.trim()).toBe(version);
  });

  it('says in package.json which Node versions are supported: the image major among them', () => {
    const major = (dockerfile.args.NODE_VERSION ?? '').split('.')[0];
    expect(pkg.engines.node.split('||').map((r) => r.trim())).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\^20\./), expect.stringMatching(new RegExp(`^\\^${major}\\.`))]),
    );
  });

  it('compiles TypeScript and prebuilds the workflow bundle in the build stage', () => {
    expect(build).toBeDefined();
    const runs = commands(build!, 'RUN');
    expect(runs).toContain('npm ci --no-audit --no-fund');
    expect(runs).toContain('npm run build');
    expect(pkg.scripts.build).toBe('bash scripts/build.sh');
    const buildScript = read('scripts/build.sh');
    expect(buildScript).toContain('npx tsc -p tsconfig.build.json');
    expect(buildScript).toContain('node dist/scripts/build-workflow-bundle.js dist/workflow-bundle.js');
    // ...with the SDK's bundleWorkflowCode, from the one set of bundle options the tests use too.
    expect(read('scripts/build-workflow-bundle.ts')).toContain("from '../workers/workflow-bundle'");
    expect(read('workers/workflow-bundle.ts')).toMatch(/bundleWorkflowCode\(\{ workflowsPath: require\.resolve/);
  });

  it('copies into the build stage every folder tsconfig.build.json compiles from', () => {
    const tsconfig = JSON.parse(read('tsconfig.build.json')) as { files: string[] };
    const copied = copiedFromContext(build!);
    expect(copied).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']),
    );
    for (const file of tsconfig.files) expect(copied).toContain(file.split('/')[0]);
  });

  it('installs production dependencies only in the runtime stage, and takes nothing but dist/ from the build', () => {
    const runs = commands(runtime, 'RUN');
    expect(runs).toContainEqual(expect.stringMatching(/^npm ci --omit=dev\b/));
    expect(runs.filter((r) => /npm (ci|install)\b/.test(r)).every((r) => r.includes('--omit=dev'))).toBe(true);
    expect(copiedFromContext(runtime)).toEqual(['package.json', 'package-lock.json']);
    expect(commands(runtime, 'COPY').filter((c) => c.startsWith('--from'))).toEqual(['--from=build /app/dist ./dist']);
  });

  it('has no tsx and no TypeScript in the runtime stage or among the production dependencies', () => {
    for (const instruction of runtime.instructions) {
      expect(instruction.args).not.toMatch(/\btsx\b|\btypescript\b|\btsc\b|ts-node|\.ts\b/);
    }
    for (const devOnly of ['tsx', 'typescript', 'ts-jest', 'ts-node']) {
      expect(Object.keys(pkg.dependencies)).not.toContain(devOnly);
    }
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['tsx', 'typescript']));
  });

  it('has the worker load the prebuilt bundle: WORKFLOW_BUNDLE_PATH names a file the runtime stage copies in', () => {
    const env = commands(runtime, 'ENV').join(' ');
    const bundle = /WORKFLOW_BUNDLE_PATH=(\S+)/.exec(env)?.[1];
    expect(bundle).toBe('/app/dist/workflow-bundle.js');
    expect(commands(runtime, 'WORKDIR')).toEqual(['/app']);
    expect(read('workers/main.ts')).toMatch(/workflowBundle: \{ codePath: bundlePath \}/);
    expect(env).toContain('NODE_ENV=production');
  });

  it('runs as the unprivileged node user, with a healthcheck that needs no curl, and the API by default', () => {
    const users = commands(runtime, 'USER');
    expect(users.at(-1)).toBe('node');
    const userAt = runtime.instructions.findIndex((i) => i.keyword === 'USER');
    const cmdAt = runtime.instructions.findIndex((i) => i.keyword === 'CMD');
    expect(userAt).toBeGreaterThan(-1);
    expect(userAt).toBeLessThan(cmdAt);
    const [healthcheck] = commands(runtime, 'HEALTHCHECK');
    expect(healthcheck).toMatch(/CMD \["node", "dist\/scripts\/healthcheck\.js"\]$/);
    expect(JSON.parse(commands(runtime, 'CMD')[0]!)).toEqual(['node', 'dist/api/main.js']);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', 'dist', '.git', '.env', 'tenants.env']));
  });
});

describe('parseDockerfile', () => {
  it('joins continuation lines, drops comments and substitutes global ARGs into FROM', () => {
    const parsed = parseDockerfile(
      ['ARG V=1.2.3', '# a comment', 'FROM node:${V}-slim AS one', 'RUN a \\', '  # inside', '  && b', 'FROM one'].join(
        '\n',
      ),
    );
    expect(parsed.args).toEqual({ V: '1.2.3' });
    expect(parsed.stages).toEqual([
      { image: 'node:1.2.3-slim', name: 'one', instructions: [{ keyword: 'RUN', args: 'a && b' }] },
      { image: 'one', name: undefined, instructions: [] },
    ]);
  });
});
