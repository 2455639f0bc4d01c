import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createdTokenSchema, tokenListSchema, tokenSchema } from '../../api/admin/schemas';
import { adminTestApp, auditRows, uniqueTenantId, type AdminTestApp } from '../helpers/admin';
import { testEnv } from '../helpers/env';

/** Admin tokens through the API (shown once, never the hash, revocation) and the bootstrap CLI. */

let t: AdminTestApp;
let root: ReturnType<AdminTestApp['as']>;
let rootId: string;

beforeAll(async () => {
  t = adminTestApp();
  const created = await t.token('admin');
  root = t.as(created.token);
  rootId = created.id;
});

afterAll(async () => {
  await t?.close();
});

describe('POST /admin/tokens', () => {
  it('shows a working token once, stores only its scrypt hash, and audits the creation', async () => {
    const res = await root.post('/admin/tokens', { name: 'dashboard', scope: 'monitoring' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = createdTokenSchema.strict().parse(res.body);
    expect(created).toMatchObject({ name: 'dashboard', scope: 'monitoring', tenantId: null, revokedAt: null });
    expect(created.token).toMatch(new RegExp(`^hm_${created.id}_[A-Za-z0-9_-]{43}$`));
    const secret = created.token.split('_').slice(2).join('_');

    const { rows } = await t.db.query('SELECT secret_hash FROM admin_tokens WHERE id = $1', [created.id]);
    expect(rows[0].secret_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(rows[0].secret_hash).not.toContain(secret);

    expect((await t.as(created.token).get('/admin/tenants?limit=1')).status).toBe(200);
    expect((await t.as(created.token).post('/admin/cache/refresh')).status).toBe(403);

    const audit = await auditRows(t.db, { actor: rootId });
    expect(audit.at(-1)).toMatchObject({
      action: 'token.create',
      details: { tokenId: created.id, name: 'dashboard', scope: 'monitoring' },
    });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('restricts a token to a tenant that exists, and rejects bad bodies field by field', async () => {
    const tenant = uniqueTenantId();
    await root.post('/admin/tenants', { id: tenant, name: 'Hotel T' }).expect(201);
    const res = await root.post('/admin/tokens', { name: 'front desk', scope: 'admin', tenantId: tenant });
    expect(res.status).toBe(201);
    expect(res.body.tenantId).toBe(tenant);

    const missing = await root.post('/admin/tokens', { name: 'x', scope: 'admin', tenantId: uniqueTenantId() });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields).toEqual([
      { in: 'body', path: 'tenantId', message: 'no tenant has this id' },
    ]);

    const bad = await root.post('/admin/tokens', { name: ' ', scope: 'root', secret: 'mine' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual([
      'name',
      'scope',
      'secret',
    ]);
  });
});

describe('GET /admin/tokens', () => {
  it('lists tokens without secrets or hashes', async () => {
    const created = await root.post('/admin/tokens', { name: 'listed', scope: 'admin' }).expect(201);
    const res = await root.get('/admin/tokens');
    expect(res.status).toBe(200);
    const list = tokenListSchema.parse(res.body);
    for (const token of res.body.tokens) tokenSchema.strict().parse(token);
    expect(list.tokens.map((x) => x.id)).toContain(created.body.id);
    expect(res.text).not.toContain('scrypt');
    expect(res.text).not.toContain(created.body.token);
    expect(res.text).not.toMatch(/secret|hash/i);
  });
});

describe('POST /admin/tokens/:id/revoke', () => {
  it('revokes at once, keeps the first revocation time, and audits it', async () => {
    const created = (await root.post('/admin/tokens', { name: 'leaked', scope: 'admin' }).expect(201)).body;
    const leaked = t.as(created.token);
    expect((await leaked.get('/admin/tenants?limit=1')).status).toBe(200);

    const first = await root.post(`/admin/tokens/${created.id}/revoke`);
    expect(first.status).toBe(200);
    const revoked = tokenSchema.strict().parse(first.body);
    expect(revoked.revokedAt).not.toBeNull();
    expect((await leaked.get('/admin/tenants?limit=1')).status).toBe(401);

    const again = await root.post(`/admin/tokens/${created.id}/revoke`);
    expect(again.body.revokedAt).toBe(revoked.revokedAt);
    const audit = await auditRows(t.db, { actor: rootId });
    expect(audit.filter((r) => r.action === 'token.revoke' && r.details.tokenId === created.id)).toHaveLength(2);
  });

  it('answers 404 for an unknown token and 400 for an id that cannot be one', async () => {
    expect((await root.post('/admin/tokens/ffffffffffffffff/revoke')).status).toBe(404);
    const bad = await root.post('/admin/tokens/not-an-id/revoke');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields).toEqual([expect.objectContaining({ in: 'path', path: 'id' })]);
  });

  it('lets a token revoke itself', async () => {
    const self = (await root.post('/admin/tokens', { name: 'self', scope: 'admin' }).expect(201)).body;
    expect((await t.as(self.token).post(`/admin/tokens/${self.id}/revoke`)).status).toBe(200);
    expect((await t.as(self.token).get('/admin/tokens')).status).toBe(401);
  });
});

describe('scripts/create-admin-token.ts', () => {
  const root = path.join(__dirname, '..', '..');
  const run = (args: string[], env: Record<string, string> = { DATABASE_URL: testEnv().postgres.url }) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/create-admin-token.ts', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: 30_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        stdout: err.stdout,
        stderr: err.stderr,
      }),
    );

  it('prints a working token once on stdout and audits it as the CLI', async () => {
    const { code, stdout, stderr } = await run(['--name', 'ops-bootstrap']);
    expect(stderr).toMatch(/only time it is shown/);
    expect(code).toBe(0);
    const token = stdout.trim();
    expect(token).toMatch(/^hm_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(stderr).not.toContain(token);
    const id = token.slice(3, 19);
    expect((await t.as(token).get('/admin/tokens')).status).toBe(200);
    const audit = await auditRows(t.db, { actor: 'cli' });
    expect(audit.some((r) => r.action === 'token.create' && r.details.tokenId === id)).toBe(true);
  });

  it('creates monitoring and tenant-restricted tokens', async () => {
    const tenant = uniqueTenantId();
    await t
      .as((await t.token('admin')).token)
      .post('/admin/tenants', { id: tenant, name: 'Hotel CLI' })
      .expect(201);
    const { code, stdout } = await run(['--name', 'desk', '--scope', 'monitoring', '--tenant', tenant]);
    expect(code).toBe(0);
    const token = stdout.trim();
    expect((await t.as(token).get('/admin/tenants')).body.tenants.map((x: { id: string }) => x.id)).toEqual([tenant]);
    expect((await t.as(token).patch(`/admin/tenants/${tenant}`, { name: 'x' })).status).toBe(403);
  });

  it('fails clearly: usage errors exit 2, a missing tenant or a bad DATABASE_URL exit 1', async () => {
    const noName = await run([]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/--name: is required/);
    expect(noName.stderr).toMatch(/usage:/);
    const badScope = await run(['--name', 'x', '--scope', 'root']);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toMatch(/--scope: must be admin or monitoring/);
    const unknownFlag = await run(['--name', 'x', '--colour', 'blue']);
    expect(unknownFlag.code).toBe(2);

    const missingTenant = await run(['--name', 'x', '--tenant', uniqueTenantId()]);
    expect(missingTenant.code).toBe(1);
    expect(missingTenant.stderr).toMatch(/No tenant has the id/);
    const badUrl = await run(['--name', 'x'], { DATABASE_URL: 'mysql://nope' });
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    for (const r of [noName, badScope, missingTenant, badUrl]) expect(r.stdout).toBe('');
  });
});
