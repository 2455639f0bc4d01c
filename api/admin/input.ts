import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { z } from 'zod';
import { HttpError } from '../errors';

/** Admin requests are small; anything larger is refused before it is buffered. */
export const maxAdminBodyBytes = 64 * 1024;

export type InputLocation = 'path' | 'query' | 'body';

export interface FieldProblem {
  in: InputLocation;
  path: string;
  message: string;
}

/** Zod issues as field-level problems; an unknown key becomes a problem at that key's own path. */
export function fieldProblems(error: z.ZodError, location: InputLocation): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ in: location, path: [...at, key].join('.'), message: 'unknown field' }));
    }
    return [{ in: location, path: at.join('.'), message: issue.message }];
  });
}

/** A NUL, or half of a UTF-16 surrogate pair: Postgres cannot store either as given (NUL fails the query). */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const unstorable = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** No admin schema nests deeper than this; anything deeper fails validation anyway, so it is not walked. */
const maxWalkDepth = 16;

/**
 * Paths of the strings (values or keys) in `value` that Postgres cannot store, down to {@link maxWalkDepth}.
 * Walks with its own stack and builds a path only for a hit, so a deeply nested body costs next to nothing.
 */
function unstorableStrings(value: unknown): string[] {
  interface Node {
    value: unknown;
    key: string | undefined;
    parent: Node | undefined;
    depth: number;
  }
  const pathOf = (node: Node): string => {
    const keys: string[] = [];
    for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
    return keys.join('.');
  };
  const found: string[] = [];
  const stack: Node[] = [{ value, key: undefined, parent: undefined, depth: 0 }];
  while (stack.length > 0 && found.length < 20) {
    const node = stack.pop()!;
    const current = node.value;
    if (typeof current === 'string') {
      if (unstorable.test(current)) found.push(pathOf(node));
    } else if (current !== null && typeof current === 'object' && node.depth < maxWalkDepth) {
      for (const [key, item] of Object.entries(current as Record<string, unknown>)) {
        const child = { value: item, key, parent: node, depth: node.depth + 1 };
        if (unstorable.test(key)) found.push(pathOf(child));
        stack.push(child);
      }
    }
  }
  return found;
}

/** Parses `value` with `schema` or throws 400 `validation_failed` naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, location: InputLocation): z.output<S> {
  const bad = unstorableStrings(value);
  if (bad.length > 0) {
    throw new HttpError(400, 'validation_failed', `The request ${location} is not valid`, {
      fields: bad.map((path) => ({ in: location, path, message: 'must not contain NUL or unpaired surrogates' })),
    });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new HttpError(400, 'validation_failed', `The request ${location} is not valid`, {
    fields: fieldProblems(parsed.error, location),
  });
}

/**
 * The request's JSON body, read with a size limit; `undefined` when the request has no body.
 * 415 for a body that is not `application/json`, 413 over the limit, 400 for malformed JSON.
 */
export async function readJsonBody(ctx: Context): Promise<unknown> {
  // `Content-Length: 0` counts as a body for type-is; for us it is none (a POST with nothing to send).
  if (!ctx.get('transfer-encoding') && Number(ctx.get('content-length') || '0') === 0) return undefined;
  if (!ctx.is('application/json'))
    throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
  let raw: string;
  try {
    raw = await getRawBody(ctx.req, { limit: maxAdminBodyBytes, encoding: 'utf8' });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') {
      throw new HttpError(413, 'payload_too_large', `Body exceeds ${maxAdminBodyBytes} bytes`);
    }
    throw new HttpError(400, 'unreadable_body', 'Could not read the request body');
  }
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
  }
}
