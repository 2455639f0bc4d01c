import type { Context } from 'koa';
import type { z } from 'zod';
import type { Access, AdminPrincipal } from './auth';
import type { noParams, noQuery } from './schemas';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** What the OpenAPI document says about a route; every admin route has one. */
export interface RouteDoc {
  method: Method;
  /** Koa-router syntax, `/admin/tenants/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'tenants' | 'tokens' | 'cache' | 'media' | 'conversations' | 'meta';
  /** `public` routes need no token. */
  access: Access | 'public';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The success status and what comes with it. */
  success: { status: number; description: string; schema?: z.ZodType; name?: string };
  /** The route is about one tenant (`:id`): a token restricted to another tenant gets 404. */
  tenantScoped?: boolean;
  /** Error statuses the route answers besides the ones every route shares. */
  errors?: number[];
}

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: AdminPrincipal;
  ctx: Context;
}

/** A route: its documentation and its handler, which returns the response body. */
export interface AdminRoute extends RouteDoc {
  access: Access;
  handle(input: RouteInput<unknown, unknown, unknown>): Promise<unknown>;
}

/** Declares a route whose handler sees its params, query and body already validated and typed. */
export function defineRoute<
  P extends z.ZodType = typeof noParams,
  Q extends z.ZodType = typeof noQuery,
  B extends z.ZodType = z.ZodUndefined,
>(
  route: Omit<AdminRoute, 'handle' | 'params' | 'query' | 'body'> & {
    params?: P;
    query?: Q;
    body?: B;
    handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
  },
): AdminRoute {
  return route;
}

/** `/admin/tenants/:id` as OpenAPI writes it: `/admin/tenants/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
