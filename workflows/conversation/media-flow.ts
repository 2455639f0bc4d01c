import { ActivityFailure, log } from '@temporalio/workflow';
import type { DownloadMediaResult } from '../../lib/domain/media';
import type { MediaMessageType, MessageRecord } from '../../lib/domain/conversation';
import { configFailureIn } from '../../lib/domain/errors';
import type { Language } from '../../lib/domain/language';
import type { InboundMedia, InboundMessage } from '../../lib/domain/messages';
import { mediaReply, receivedReply } from '../../lib/domain/templates';
import type { TenantProfile } from '../../lib/domain/tenants';
import { downloadMedia, transcribeAudio } from './activity-options';
import { understandAndAct } from './dialogue';
import { reply } from './replies';
import type { ConversationMemory } from './state';

/**
 * Downloads a photo, voice note or file as it arrives (Meta's links expire), keeps its store reference in
 * the state for staff, and answers: a transcribed voice note is understood like typed text; one nobody
 * transcribed is flagged for staff.
 */
export async function receiveMedia(
  memory: ConversationMemory,
  message: InboundMessage,
  type: MediaMessageType,
  record: MessageRecord,
  hotel: TenantProfile,
  lang: Language,
): Promise<void> {
  const item = message.media;
  if (!item) return reply(memory, message, receivedReply(lang, 'media'), 'media');
  const stored = await keepMedia(memory, message, item, type, record, hotel);
  if (!stored) return reply(memory, message, mediaReply(lang, 'not_found'), 'media');
  if (stored.kind === 'rejected') return reply(memory, message, mediaReply(lang, stored.reason), 'media');
  if (type !== 'audio') return reply(memory, message, receivedReply(lang, 'media'), 'media');
  const transcript = await transcribe(memory, message, item, stored, hotel, lang);
  if (transcript) {
    record.text = transcript;
    return understandAndAct(memory, message, transcript, hotel, lang);
  }
  memory.staffRequested = true;
  return reply(memory, message, mediaReply(lang, 'voice_note_for_staff'), 'voice_note');
}

/**
 * In handoff: keeps the photo, voice note or file for staff (a voice note transcribed, so staff can read it) and
 * answers nothing.
 */
export async function keepMediaForStaff(
  memory: ConversationMemory,
  message: InboundMessage,
  type: MediaMessageType,
  record: MessageRecord,
  hotel: TenantProfile,
  lang: Language,
): Promise<void> {
  const item = message.media;
  if (!item) return;
  const stored = await keepMedia(memory, message, item, type, record, hotel);
  if (stored?.kind !== 'stored' || type !== 'audio') return;
  const transcript = await transcribe(memory, message, item, stored, hotel, lang);
  if (transcript) record.text = transcript;
}

/**
 * Downloads the message's media into the store and records where it is (or why it is not) on the message's record.
 * Undefined when it could not be downloaded at all: staff are flagged.
 */
async function keepMedia(
  memory: ConversationMemory,
  message: InboundMessage,
  item: InboundMedia,
  type: MediaMessageType,
  record: MessageRecord,
  hotel: TenantProfile,
): Promise<DownloadMediaResult | undefined> {
  const { guestRef } = memory.input;
  let stored: DownloadMediaResult;
  try {
    stored = await downloadMedia.executeWithOptions({ summary: `download ${type} ${item.id}` }, [
      {
        tenantId: hotel.id,
        mediaId: item.id,
        type,
        tokenRef: hotel.whatsappTokenRef,
        ...(item.mimeType !== undefined ? { declaredMimeType: item.mimeType } : {}),
        ...(item.sha256 !== undefined ? { declaredSha256: item.sha256 } : {}),
        // Tags the media as this guest's, so it can be exported and erased with the guest's data.
        ...(guestRef !== undefined ? { guestRef } : {}),
      },
    ]);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Media could not be downloaded', { messageId: message.id, error: err.cause?.message });
    record.media = { rejected: 'unavailable' };
    memory.staffRequested = true;
    memory.noteConfigFailure(configFailureIn(err));
    return undefined;
  }
  if (stored.kind === 'rejected') {
    record.media = { rejected: stored.reason };
    // The file is fine but could not be kept: a person has to look at the storage and follow up.
    if (stored.reason === 'quota_exceeded' || stored.reason === 'storage_full') memory.staffRequested = true;
    return stored;
  }
  record.media = { ref: stored.ref, mimeType: stored.mimeType, size: stored.size };
  return stored;
}

/** The voice note's words, or null when nobody could transcribe it (a convenience: staff listen instead). */
async function transcribe(
  memory: ConversationMemory,
  message: InboundMessage,
  item: InboundMedia,
  { ref, mimeType }: { ref: string; mimeType: string },
  hotel: TenantProfile,
  lang: Language,
): Promise<string | null> {
  try {
    const { text } = await transcribeAudio.executeWithOptions({ summary: `transcribe ${item.id}` }, [
      { tenantId: hotel.id, ref, language: lang, mimeType },
    ]);
    return text;
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('Voice note not transcribed', { messageId: message.id, error: err.cause?.message });
    memory.noteConfigFailure(configFailureIn(err));
    return null;
  }
}
