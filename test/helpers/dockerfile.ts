import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One Dockerfile instruction: `RUN npm ci` is `{ keyword: 'RUN', args: 'npm ci' }`, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  /** The base image with global ARGs substituted (`node:22.23.5-bookworm-slim`). */
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Global ARGs (before the first FROM) with their defaults. */
  args: Record<string, string>;
  stages: Stage[];
}

/**
 * Parses a Dockerfile into its stages, the way `docker build` reads it: comments dropped, `\` continuations joined,
 * global `ARG`s substituted into `FROM`. Enough to check what an image will hold without a Docker engine.
 */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(`${current}${line}`.trim());
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args[name] = value;
      continue;
    }
    if (upper === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      const substituted = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => args[n] ?? '');
      stages.push({ image: substituted, name, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${upper} before the first FROM`);
    stage.instructions.push({ keyword: upper, args: rest });
  }
  return { args, stages };
}

export const projectDockerfile = (root: string): Dockerfile =>
  parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));

/** The source folders a stage copies from the build context (`COPY api ./api` → `api`). */
export function copiedFromContext(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
}
