/**
 * `node dist/scripts/build-workflow-bundle.js [out]`: the workflow bundle the image's worker loads
 * (WORKFLOW_BUNDLE_PATH), built once in the image's build stage rather than at every worker start.
 * Run by `npm run build` after `tsc`, so it bundles the compiled dist/workflows; writes dist/workflow-bundle.js.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflows } from '../workers/workflow-bundle';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'workflow-bundle.js'));
  const { code } = await bundleWorkflows();
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`workflow bundle: ${path.relative(process.cwd(), out)} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
