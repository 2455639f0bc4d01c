/**
 * `npm run migrate [-- --seed-demo]`: applies the SQL migrations in lib/db/migrations to DATABASE_URL,
 * and with --seed-demo adds the demo hotel (its PMS at DEMO_PMS_BASE_URL, the start command's stand-in by default).
 * Safe to run again. In the image: `node dist/scripts/migrate.js`.
 */
import { z } from 'zod';
import { migrate } from '../lib/db/migrate';
import { createPool } from '../lib/db/pool';
import { seedDemo } from '../lib/db/seed-demo';

async function main(): Promise<void> {
  const env = z
    .object({
      DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
      DEMO_PMS_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    })
    .safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
  if (!env.success) {
    const lines = env.error.issues.map(
      (issue) => `  ${issue.path.join('.')}: ${issue.code === 'invalid_type' ? 'is required' : issue.message}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const pool = createPool(env.data.DATABASE_URL, { max: 1, applicationName: 'migrate' });
  try {
    const result = await migrate(pool);
    for (const name of result.applied) console.log(`applied ${name}`);
    console.log(`${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
    if (process.argv.includes('--seed-demo')) {
      const demoPms = env.data.DEMO_PMS_BASE_URL;
      const { created } = await seedDemo(pool, demoPms ? { pmsBaseUrl: demoPms } : {});
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
