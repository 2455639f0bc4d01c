import {
  isGrpcServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { ApplicationFailure } from '@temporalio/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config';
import { phoneNumberOwner } from '../../lib/db/admin';
import { conversationWorkflowType, type ConversationWorkflow } from '../../lib/domain/conversation';
import { ErrorType, operatorRefusals, type OperatorRefusal } from '../../lib/domain/errors';
import { GuestRef, TenantId } from '../../lib/domain/search-attributes';
import { HttpError } from '../errors';
import type { AdminPrincipal } from './auth';

/**
 * How the admin API reaches conversations in Temporal: within a deadline (an unreachable Temporal or a conversation
 * no worker serves is a 503, never a hung request), scoped to the caller's tenant (another tenant's conversation is
 * a 404, like one that does not exist), and with the conversation's refusals as 400/409.
 */

export interface ConversationDeps {
  temporal: Client;
  db: Pool;
  config: Config;
}

export const conversationNotFound = () => new HttpError(404, 'not_found', 'Conversation not found');

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) the admin API tells apart. */
const grpcCode = { cancelled: 1, deadlineExceeded: 4, unavailable: 14 } as const;
/** "Temporal is not answering": cancelled, deadline exceeded, unavailable. */
const unavailableCodes = new Set<number>([grpcCode.cancelled, grpcCode.deadlineExceeded, grpcCode.unavailable]);

function asHttpError(err: unknown): unknown {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new HttpError(
      503,
      'temporal_timeout',
      'The conversation did not answer in time (is a worker running?); retry later',
    );
  }
  if (isGrpcServiceError(err) && unavailableCodes.has(Number(err.code))) {
    return new HttpError(503, 'temporal_unavailable', 'Temporal did not answer in time; retry later');
  }
  const refusal = refusalOf(err);
  if (refusal) return new HttpError(refusal.reason === 'invalid_request' ? 400 : 409, refusal.reason, refusal.message);
  return err;
}

/** The conversation's refusal of an operator's update (its validator, or its handler), if that is what `err` is. */
function refusalOf(err: unknown): { reason: OperatorRefusal; message: string } | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== ErrorType.OperatorActionRefused) return undefined;
  const reason = (cause.details?.[0] as { reason?: unknown } | undefined)?.reason;
  const known = (operatorRefusals as readonly unknown[]).includes(reason) ? (reason as OperatorRefusal) : 'closed';
  return { reason: known, message: cause.message };
}

/**
 * Runs `fn` against Temporal within `ADMIN_TEMPORAL_TIMEOUT_MS`. Errors the caller should see are HTTP errors (503,
 * 400/409 for a refused update); `WorkflowNotFoundError` passes through for the caller to turn into its 404 or 409.
 */
export async function withTemporal<T>(deps: ConversationDeps, fn: () => Promise<T>): Promise<T> {
  try {
    return await deps.temporal.connection.withDeadline(Date.now() + deps.config.admin.temporalTimeoutMs, fn);
  } catch (err) {
    throw asHttpError(err);
  }
}

/** One conversation as the admin API acts on it. */
export interface Conversation {
  handle: WorkflowHandle<ConversationWorkflow>;
  info: WorkflowExecutionDescription;
  /** Whose conversation it is: its `TenantId`, or the owner of its business number while it has none yet. */
  tenantId: string | undefined;
  phoneNumberId: string;
  guestRef: string | undefined;
  running: boolean;
}

/** `wa:<phone_number_id>:<guest>` → the business number id. */
function phoneNumberIdOf(workflowId: string): string {
  return workflowId.split(':')[1] ?? '';
}

/**
 * The conversation with this workflow id, if the caller may see it: a token restricted to a tenant sees only that
 * tenant's conversations (another's is a 404, like one that does not exist).
 */
export async function findConversation(
  deps: ConversationDeps,
  principal: AdminPrincipal,
  workflowId: string,
): Promise<Conversation> {
  const handle = deps.temporal.workflow.getHandle<ConversationWorkflow>(workflowId);
  let info: WorkflowExecutionDescription;
  try {
    info = await withTemporal(deps, () => handle.describe());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw conversationNotFound();
    throw err;
  }
  if (info.type !== conversationWorkflowType) throw conversationNotFound();
  const phoneNumberId = phoneNumberIdOf(workflowId);
  const tenantId = info.typedSearchAttributes.get(TenantId) ?? (await phoneNumberOwner(deps.db, phoneNumberId));
  if (principal.tenantId !== null && principal.tenantId !== tenantId) throw conversationNotFound();
  return {
    handle,
    info,
    tenantId,
    phoneNumberId,
    guestRef: info.typedSearchAttributes.get(GuestRef),
    running: info.status.name === 'RUNNING',
  };
}

const invalidPageToken = () =>
  new HttpError(400, 'validation_failed', 'The request query is not valid', {
    fields: [{ in: 'query', path: 'pageToken', message: 'is not the nextPageToken of a previous page of this list' }],
  });

/**
 * Page tokens handed to clients: Temporal's token with a MAC over it and the query it belongs to, so only a token this
 * API issued for the same list reaches Temporal (the dev server's visibility hangs on a malformed one rather than
 * refusing it). The MAC key is derived from `GUEST_REF_KEY`, the server key the API already has.
 */
function pageTokens(config: Config) {
  const key = createHmac('sha256', config.guestRefKey).update('admin-list-page-token').digest();
  const mac = (query: string, token: Buffer) =>
    createHmac('sha256', key).update(query).update('\0').update(token).digest().subarray(0, 16);
  return {
    seal: (query: string, token: Uint8Array): string => {
      const bytes = Buffer.from(token);
      return `${bytes.toString('base64url')}.${mac(query, bytes).toString('base64url')}`;
    },
    open: (query: string, sealed: string): Buffer => {
      const [token, tag, ...rest] = sealed.split('.');
      if (token === undefined || tag === undefined || rest.length > 0) throw invalidPageToken();
      const bytes = Buffer.from(token, 'base64url');
      const given = Buffer.from(tag, 'base64url');
      const expected = mac(query, bytes);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidPageToken();
      return bytes;
    },
  };
}

/** A page of workflow executions matching a visibility query, and the token of the next page (null on the last). */
export async function listExecutions(
  deps: ConversationDeps,
  query: string,
  page: { pageSize: number; pageToken?: string | undefined },
): Promise<{ executions: WorkflowExecutionInfo[]; nextPageToken: string | null }> {
  const { temporal } = deps;
  const tokens = pageTokens(deps.config);
  const nextPageToken = page.pageToken !== undefined ? tokens.open(query, page.pageToken) : undefined;
  const response = await withTemporal(deps, () =>
    temporal.workflowService.listWorkflowExecutions({
      namespace: temporal.options.namespace,
      query,
      pageSize: page.pageSize,
      ...(nextPageToken !== undefined ? { nextPageToken } : {}),
    }),
  );
  const executions = await Promise.all(
    (response.executions ?? []).map((raw) =>
      executionInfoFromRaw(raw, temporal.options.loadedDataConverter, raw, temporal.options.namespace),
    ),
  );
  const next = response.nextPageToken;
  return { executions, nextPageToken: next && next.length > 0 ? tokens.seal(query, next) : null };
}

/** Every execution matching the query, up to `max` (for one guest's conversations and bookings: a handful). */
export async function listAllExecutions(
  deps: ConversationDeps,
  query: string,
  max = 200,
): Promise<WorkflowExecutionInfo[]> {
  const all: WorkflowExecutionInfo[] = [];
  let pageToken: string | undefined;
  do {
    const page = await listExecutions(deps, query, { pageSize: 100, pageToken });
    all.push(...page.executions);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken !== undefined && all.length < max);
  return all.slice(0, max);
}
