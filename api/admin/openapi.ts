import { z } from 'zod';
import { openApiPath, type RouteDoc } from './route';
import { errorSchema } from './schemas';

type JsonSchema = Record<string, unknown>;

/** The document's own route: public, and not served in production. */
export const openApiRoute: RouteDoc = {
  method: 'GET',
  path: '/admin/openapi.json',
  operationId: 'getOpenApiDocument',
  summary: 'This OpenAPI document (not served in production)',
  tag: 'meta',
  access: 'public',
  success: { status: 200, description: 'OpenAPI 3.1 document of the admin API' },
};

const errorDescriptions: Record<number, string> = {
  400: 'Invalid path, query or body: `validation_failed` with `details.fields`, or `invalid_json`',
  401: 'Token missing, malformed, wrong or revoked (`unauthorized`); see `WWW-Authenticate`',
  403: 'The token may not do this (`forbidden`): a monitoring token writing, or a tenant-restricted token',
  404: 'No such resource, or one the token may not see (`not_found`)',
  409:
    'The id, phone number id or identifier is already registered (`conflict`), or the conversation refuses the ' +
    'action in its state (`closed`, `already_in_handoff`, `not_in_handoff`, `booking_in_progress`, `no_tenant`)',
  413: 'Body over 64 kB (`payload_too_large`)',
  415: 'Body is not `application/json` (`unsupported_media_type`)',
  429: 'Too many failed authentications from this address (`too_many_requests`); see `Retry-After`',
  503:
    'Postgres, Redis or Temporal is unreachable (`database_unavailable`, `redis_unavailable`, `temporal_unavailable`), ' +
    'a conversation did not answer in time (`temporal_timeout`), or too many token checks are running (`auth_busy`); ' +
    'see `Retry-After`',
};

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return rest;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const { properties = {}, required = [] } = toJsonSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || required.includes(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function errorStatuses(route: RouteDoc): number[] {
  const statuses = new Set(route.errors ?? []);
  if (route.access !== 'public') [400, 401, 429, 503].forEach((s) => statuses.add(s));
  if (route.access !== 'read' && route.access !== 'public') statuses.add(403);
  if (route.tenantScoped) statuses.add(404);
  if (route.method === 'POST' || route.method === 'PATCH') [413, 415].forEach((s) => statuses.add(s));
  return [...statuses].sort();
}

/**
 * The admin API's OpenAPI 3.1 document, generated from the routes' own zod schemas
 * (https://spec.openapis.org/oas/v3.1.0; schemas are JSON Schema 2020-12, which 3.1 uses as is).
 */
export function buildOpenApiDocument(routes: readonly RouteDoc[]): JsonSchema {
  const schemas: Record<string, JsonSchema> = { Error: toJsonSchema(errorSchema, 'output') };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const { success } = route;
    let successSchema: JsonSchema | undefined;
    if (success.schema && success.name) {
      schemas[success.name] ??= toJsonSchema(success.schema, 'output');
      successSchema = { $ref: `#/components/schemas/${success.name}` };
    } else if (success.schema) {
      successSchema = toJsonSchema(success.schema, 'output');
    }
    const responses: Record<string, JsonSchema> = {
      [success.status]: {
        description: success.description,
        ...(successSchema ? { content: { 'application/json': { schema: successSchema } } } : {}),
      },
    };
    for (const status of errorStatuses(route)) {
      responses[status] = {
        description: errorDescriptions[status] ?? 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      ...(route.access === 'public' ? { security: [] } : {}),
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toJsonSchema(route.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hotel guest messaging: admin API',
      version: '1',
      description:
        "Tenants, their WhatsApp numbers and guest identifiers, admin tokens, guests' conversations and data. " +
        'Authenticate with `Authorization: Bearer hm_<id>_<secret>`. Errors are `{ error: { code, message, details } }`.',
    },
    tags: [
      { name: 'tenants', description: 'Hotels, their WhatsApp numbers and guest identifiers' },
      { name: 'tokens', description: 'Admin API tokens (unrestricted admin tokens only)' },
      { name: 'cache', description: "The workers' tenant cache" },
      { name: 'media', description: 'Stored guest media: the Redis index, listed with bounded SCANs' },
      {
        name: 'conversations',
        description: "Guests' conversations from Temporal: list, read, and steer (handoff, reply, resume, close)",
      },
      { name: 'guests', description: "One guest's data at one hotel: export it, erase it" },
      { name: 'meta', description: 'This document' },
    ],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin token, hm_<id>_<secret>' },
      },
      schemas,
    },
  };
}
