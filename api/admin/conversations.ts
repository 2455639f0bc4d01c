import { WorkflowNotFoundError, WorkflowUpdateStage, type WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import {
  closeUpdate,
  handoffUpdate,
  operatorReplyUpdate,
  resumeUpdate,
  stateQuery,
  type ConversationState,
  type MessageRecord,
  type OperatorRequest,
} from '../../lib/domain/conversation';
import { ConversationStatus, LastIntent, TenantId } from '../../lib/domain/search-attributes';
import { retryAbortedUpdate } from '../../lib/temporal-updates';
import { HttpError } from '../errors';
import type { AdminPrincipal } from './auth';
import {
  findConversation,
  listExecutions,
  withTemporal,
  type Conversation,
  type ConversationDeps,
} from './conversation-access';
import {
  conversationActionSchema,
  conversationDetailSchema,
  conversationListSchema,
  conversationParams,
  listConversationsQuery,
  operatorReplyBody,
  operatorReplySchema,
} from './conversation-schemas';
import { conversationLookupSchema, findConversationsByPhone } from './conversations-lookup';
import { defineRoute, type AdminRoute } from './route';
import { tenantNotFound } from './tenants';
import { auditedWrite } from './write';

const closedConflict = () => new HttpError(409, 'closed', 'The conversation is closed');

/** A conversation as listed: ids, Temporal's status, and its search attributes. */
export function conversationSummary(info: Omit<WorkflowExecutionInfo, 'raw'>) {
  const attributes = info.typedSearchAttributes;
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    executionStatus: info.status.name,
    status: attributes.get(ConversationStatus) ?? null,
    tenantId: attributes.get(TenantId) ?? null,
    lastIntent: attributes.get(LastIntent) ?? null,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
  };
}

/** The state as the caller may see it: monitoring tokens read statuses and counts, not what guests and staff wrote. */
export function visibleState(state: ConversationState, principal: AdminPrincipal): ConversationState {
  if (principal.scope === 'admin') return state;
  return { ...state, lastMessages: state.lastMessages.map((m) => ({ ...m, text: undefined })) };
}

/** Which tenant's conversations a list covers: a restricted token only its own (another's is a 404). */
function listedTenant(principal: AdminPrincipal, requested: string | undefined): string | undefined {
  if (principal.tenantId === null) return requested;
  if (requested !== undefined && requested !== principal.tenantId) throw tenantNotFound();
  return principal.tenantId;
}

/** The visibility query of a conversation list: the values are validated (slug, enum), so quoting is enough. */
function listQuery(tenantId: string | undefined, status: string | undefined): string {
  const conditions = [`WorkflowType = 'conversation'`];
  if (tenantId !== undefined) conditions.push(`TenantId = '${tenantId}'`);
  if (status !== undefined) conditions.push(`ConversationStatus = '${status}'`);
  return conditions.join(' AND ');
}

/** Conversations of a tenant (or all, for an unrestricted token), newest first, from Temporal's visibility. */
async function listConversations(
  deps: ConversationDeps,
  principal: AdminPrincipal,
  query: z.output<typeof listConversationsQuery>,
) {
  const tenantId = listedTenant(principal, query.tenantId);
  const page = await listExecutions(deps, listQuery(tenantId, query.status), query);
  return { conversations: page.executions.map(conversationSummary), nextPageToken: page.nextPageToken };
}

/** What every operator action's audit row says of the conversation: never the guest's number, nor what was written. */
function auditSubject(conversation: Conversation): Record<string, unknown> {
  return { phoneNumberId: conversation.phoneNumberId, guestRef: conversation.guestRef ?? null };
}

/**
 * The conversations operators watch and steer: the list from Temporal's visibility, one conversation's state, and the
 * four operator updates (handoff, reply, resume, close), each audited with the token id that acted.
 */
export function conversationRoutes(deps: ConversationDeps): AdminRoute[] {
  const { db } = deps;
  const operatorOf = (principal: AdminPrincipal): OperatorRequest => ({ operator: { tokenId: principal.tokenId } });

  /** Runs an update on a running conversation inside the transaction of its audit row. */
  async function act<T>(
    principal: AdminPrincipal,
    workflowId: string,
    action: string,
    run: (conversation: Conversation) => Promise<{ result: T; details?: Record<string, unknown> }>,
  ): Promise<T> {
    const conversation = await findConversation(deps, principal, workflowId);
    if (!conversation.running) throw closedConflict();
    return auditedWrite(
      db,
      { principal, action: `conversation.${action}`, tenantId: conversation.tenantId ?? null, notify: false },
      async () => {
        try {
          const { result, details } = await run(conversation);
          return { result, details: { ...auditSubject(conversation), ...details } };
        } catch (err) {
          // It closed between the look-up and the update.
          if (err instanceof WorkflowNotFoundError) throw closedConflict();
          throw err;
        }
      },
    );
  }

  const stateAction = (name: 'handoff' | 'resume' | 'close', summary: string, description: string) =>
    defineRoute({
      method: 'POST',
      path: `/admin/conversations/:id/${name}`,
      operationId: `${name}Conversation`,
      summary,
      description,
      tag: 'conversations',
      access: 'write',
      params: conversationParams,
      errors: [404, 409],
      success: { status: 200, description: 'The conversation state after it', schema: conversationActionSchema },
      handle: async ({ params, principal }) =>
        act(principal, params.id, name, async ({ handle }) => {
          const update = { handoff: handoffUpdate, resume: resumeUpdate, close: closeUpdate }[name];
          const state = await withTemporal(deps, () =>
            retryAbortedUpdate(() => handle.executeUpdate(update, { args: [operatorOf(principal)] })),
          );
          return { result: { workflowId: params.id, state } };
        }),
    });

  return [
    defineRoute({
      method: 'GET',
      path: '/admin/conversations',
      operationId: 'listConversations',
      summary: "List conversations by tenant and status, newest first, a page at a time; or find a guest's by number",
      description:
        "From Temporal's visibility (a change shows within a second or so). `status=handoff` lists the conversations " +
        'waiting for staff. With `phone` (and `tenantId`): workflow ids carry a keyed guest reference, not the ' +
        "number, so this computes the reference and answers the guest's conversation on each business number of the " +
        'tenant (ConversationLookup). That needs an admin token (monitoring tokens never see who guests are) and is ' +
        'audited.',
      tag: 'conversations',
      access: 'read',
      query: listConversationsQuery,
      errors: [404, 503],
      success: {
        status: 200,
        description: "A page of conversations, or with `phone` the guest's conversations",
        schema: z.union([conversationListSchema, conversationLookupSchema]),
      },
      handle: async ({ query, principal }) =>
        query.phone === undefined || query.tenantId === undefined
          ? listConversations(deps, principal, query)
          : findConversationsByPhone(deps, principal, query.phone, query.tenantId),
    }),

    defineRoute({
      method: 'GET',
      path: '/admin/conversations/:id',
      operationId: 'getConversation',
      summary: 'One conversation: its status and its `state` (last messages both ways, handoff, booking)',
      tag: 'conversations',
      access: 'read',
      params: conversationParams,
      errors: [404],
      success: { status: 200, description: 'The conversation', schema: conversationDetailSchema },
      handle: async ({ params, principal }) => {
        const conversation = await findConversation(deps, principal, params.id);
        const state = await withTemporal(deps, () => conversation.handle.query(stateQuery));
        return { ...conversationSummary(conversation.info), state: visibleState(state, principal) };
      },
    }),

    stateAction(
      'handoff',
      'Take the conversation over: the bot stops answering until resume',
      'Guest messages are still recorded, their media downloaded, and shown in the state. 409 `already_in_handoff`.',
    ),

    defineRoute({
      method: 'POST',
      path: '/admin/conversations/:id/reply',
      operationId: 'replyToConversation',
      summary: 'Send a text to the guest as staff, through the same send path as the bot',
      description:
        'The conversation is in handoff afterwards. Answers once the send is over (sent or failed), or as `pending` ' +
        'when it is still being retried after ADMIN_TEMPORAL_TIMEOUT_MS. 409 `no_tenant` when no active hotel answers ' +
        'for the conversation.',
      tag: 'conversations',
      access: 'write',
      params: conversationParams,
      body: operatorReplyBody,
      errors: [404, 409],
      success: { status: 200, description: 'The reply as recorded', schema: operatorReplySchema },
      handle: async ({ params, body, principal }) =>
        act(principal, params.id, 'reply', async ({ handle }) => {
          const request = { ...operatorOf(principal), text: body.text };
          const update = await withTemporal(deps, () =>
            retryAbortedUpdate(() =>
              handle.startUpdate(operatorReplyUpdate, {
                args: [request],
                waitForStage: WorkflowUpdateStage.ACCEPTED,
                ...(body.requestId !== undefined ? { updateId: `operator-reply-${body.requestId}` } : {}),
              }),
            ),
          );
          let message: MessageRecord;
          try {
            message = await withTemporal(deps, () => update.result());
          } catch (err) {
            // Accepted, so it will be sent; WhatsApp is being slow or retried.
            if (!(err instanceof HttpError && err.status === 503)) throw err;
            const { text } = body;
            message = { direction: 'out', id: undefined, type: 'text', text, status: 'pending', at: Date.now() };
            message.operator = principal.tokenId;
          }
          const details = { chars: body.text.length, status: message.status, messageId: message.id ?? null };
          return { result: { workflowId: params.id, message }, details };
        }),
    }),

    stateAction(
      'resume',
      'Hand the conversation back to the bot',
      'The bot answers the next message. 409 `not_in_handoff`.',
    ),

    stateAction(
      'close',
      'Close the conversation: nothing more is answered, and it completes',
      'A later message from the guest opens a new conversation. 409 `booking_in_progress` while a booking saga runs.',
    ),
  ];
}
