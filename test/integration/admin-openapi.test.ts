import type Router from '@koa/router';
import { adminRouter } from '../../api/admin/router';
import { openApiPath } from '../../api/admin/route';
import { createLogger } from '../../lib/log';
import { adminTestApp, type AdminTestApp } from '../helpers/admin';

/** The OpenAPI document: served outside production, complete, generated from the zod schemas. */

let t: AdminTestApp;
let document: any;

beforeAll(async () => {
  t = adminTestApp();
  const res = await t.as().get('/admin/openapi.json');
  expect(res.status).toBe(200);
  document = res.body;
});

afterAll(async () => {
  await t?.close();
});

/** Every (method, path) the admin router answers, HEAD (added by the router for GET) aside. */
function routerOperations(router: Router): [string, string][] {
  return router.stack.flatMap((layer) =>
    layer.methods.filter((m) => m !== 'HEAD').map((m): [string, string] => [m.toLowerCase(), String(layer.path)]),
  );
}

describe('GET /admin/openapi.json', () => {
  it('is an OpenAPI 3.1 document, served without a token', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(document.paths['/admin/openapi.json'].get.security).toEqual([]);
  });

  it('documents every route the admin router has, and nothing else', () => {
    const router = adminRouter({
      db: t.db,
      config: t.config,
      log: createLogger({ level: 'silent' }),
      pmsRedirect: () => Promise.resolve(undefined),
    });
    const operations = routerOperations(router);
    expect(operations.length).toBeGreaterThanOrEqual(14);
    for (const [method, path] of operations) {
      expect([method, path, document.paths[openApiPath(path)]?.[method]?.operationId]).toEqual([
        method,
        path,
        expect.any(String),
      ]);
    }
    const documented = Object.entries(document.paths).flatMap(([p, ops]) =>
      Object.keys(ops as object).map((m) => `${m} ${p}`),
    );
    expect(documented.sort()).toEqual(operations.map(([m, p]) => `${m} ${openApiPath(p)}`).sort());
  });

  it('carries the request schemas: strict bodies, path and query parameters, error responses', () => {
    const create = document.paths['/admin/tenants'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.required).toEqual(['id', 'name']);
    expect(body.properties.id.pattern).toBeDefined();
    expect(body.properties.locale.enum).toEqual(['es', 'en']);
    expect(Object.keys(create.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '429',
      '503',
    ]);
    expect(create.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/TenantDetail',
    });
    expect(document.components.schemas.TenantDetail.properties.identifiers).toBeDefined();

    const list = document.paths['/admin/tenants'].get;
    expect(list.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual([
      'query:after',
      'query:limit',
      'query:status',
    ]);
    const remove = document.paths['/admin/tenants/{id}/identifiers/{identifier}'].delete;
    expect(remove.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
      expect.objectContaining({ name: 'identifier', in: 'path', required: true }),
    ]);
    expect(remove.responses['404']).toBeDefined();
  });

  it('is not served in production', async () => {
    const production = adminTestApp({ NODE_ENV: 'production' });
    try {
      const res = await production.as().get('/admin/openapi.json');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    } finally {
      await production.close();
    }
  });
});
