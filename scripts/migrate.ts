/**
 * `npm run migrate [-- --seed-demo]`: applies the SQL migrations in lib/db/migrations to DATABASE_URL,
 * and with --seed-demo adds the demo hotel. Safe to run again.
 */
import { z } from 'zod';
import { migrate } from '../lib/db/migrate';
import { createPool } from '../lib/db/pool';
import { seedDemo } from '../lib/db/seed-demo';

async function main(): Promise<void> {
  const env = z
    .object({ DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL') })
    .safeParse(process.env);
  if (!env.success)
    throw new Error(`Invalid configuration:\n  DATABASE_URL: ${env.error.issues[0]?.message ?? 'is required'}`);
  const pool = createPool(env.data.DATABASE_URL, { max: 1, applicationName: 'migrate' });
  try {
    const result = await migrate(pool);
    for (const name of result.applied) console.log(`applied ${name}`);
    console.log(`${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
    if (process.argv.includes('--seed-demo')) {
      const { created } = await seedDemo(pool);
      console.log(created ? 'demo hotel created' : 'demo hotel already there');
    }
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
