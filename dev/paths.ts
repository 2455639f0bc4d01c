import path from 'node:path';

export const projectRoot = path.resolve(__dirname, '..');
/** Everything the local system writes: databases, logs, the Temporal binary link, dev secrets. Gitignored. */
export const dataDir = path.join(projectRoot, '.data');
/** Secrets generated on the first start, so the demo can sign webhooks the API accepts. */
export const devEnvFile = path.join(dataDir, 'dev.env');
