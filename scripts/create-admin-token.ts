/**
 * Creates an admin API token and prints it once; the database keeps only its scrypt hash.
 *
 *   npm run admin-token -- --name ops [--scope admin|monitoring] [--tenant <tenant id>]
 *
 * This is how the first token is made (every other one can be made through `POST /admin/tokens`).
 * It reads only DATABASE_URL, so it runs where the WhatsApp secrets are not set. The token goes to
 * stdout alone, so `TOKEN=$(npm run --silent admin-token -- --name ci)` works; the rest goes to stderr.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { adminScopes } from '../lib/admin-tokens';
import { MissingTenantError } from '../lib/db/queries';
import { createAdminToken } from '../lib/db/tokens';
import { createPool } from '../lib/db/pool';
import { tenantIdPattern } from '../lib/domain/tenants';

const usage = 'usage: create-admin-token --name <name> [--scope admin|monitoring] [--tenant <tenant id>]';

const argsSchema = z.object({
  name: z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(100),
  scope: z.enum(adminScopes, { error: 'must be admin or monitoring' }).default('admin'),
  tenant: z.string().regex(tenantIdPattern, 'must be a tenant id (lowercase slug)').optional(),
});

// Same default as lib/config.ts (the dev Postgres of `bash scripts/start.sh`).
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://hotel@localhost:5433/hotel'),
});

class UsageError extends Error {}

function problems(error: z.ZodError, prefix: string): string {
  return error.issues.map((i) => `  ${prefix}${i.path.join('.')}: ${i.message}`).join('\n');
}

async function main(): Promise<void> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      options: { name: { type: 'string' }, scope: { type: 'string' }, tenant: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const args = argsSchema.safeParse(values);
  if (!args.success) throw new UsageError(`Invalid arguments:\n${problems(args.error, '--')}`);
  const env = envSchema.safeParse(
    Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!env.success) throw new Error(`Invalid configuration:\n${problems(env.error, '')}`);

  const pool = createPool(env.data.DATABASE_URL, { max: 1, applicationName: 'create-admin-token' });
  try {
    const { name, scope, tenant } = args.data;
    const created = await createAdminToken(pool, { name, scope, tenantId: tenant ?? null }, 'cli');
    console.error(
      `Created admin token ${created.id} "${created.name}" (scope ${created.scope}` +
        `${created.tenantId ? `, restricted to tenant ${created.tenantId}` : ''}).`,
    );
    console.error('This is the only time it is shown; store it now. Use it as: Authorization: Bearer <token>');
    console.log(created.token);
  } catch (err) {
    if (err instanceof MissingTenantError) throw new Error(`No tenant has the id "${args.data.tenant}"`);
    throw err;
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\n${usage}`);
    process.exit(2);
  }
  // A refused dual-stack connect is an AggregateError with an empty message but a code.
  const reason = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
  console.error(`create-admin-token: ${reason}`);
  process.exit(1);
});
