import { graphTemplate } from '../../lib/domain/guest-templates';
import { graphInteractive } from '../../lib/domain/interactive';
import type { SendTextInput } from '../../lib/domain/messages';

/**
 * The `type` and content of a send's body: a template, an interactive message, or text (the default).
 * https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
 */
export function messageContent(input: SendTextInput): Record<string, unknown> {
  if (input.template) return { type: 'template', template: graphTemplate(input.template) };
  if (input.interactive) return { type: 'interactive', interactive: graphInteractive(input.interactive) };
  return { type: 'text', text: { preview_url: false, body: input.text } };
}
