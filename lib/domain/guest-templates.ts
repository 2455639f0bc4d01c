/**
 * Approved WhatsApp templates, the only messages WhatsApp delivers once the guest's 24-hour customer-service window
 * has closed. Configured per tenant (`messaging.templates`): Meta's template name, its language code per guest
 * language, and its body parameters, each a text with `{placeholders}` filled when it is sent. Pure: safe in
 * workflow code. See https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates.
 */
import type { Language } from './language';

/** What a tenant's template is used for. */
export const templatePurposes = ['late_reply', 'pre_arrival', 'post_stay'] as const;
export type TemplatePurpose = (typeof templatePurposes)[number];

export interface TemplateSetting {
  /** Meta's template name: lowercase letters, digits and underscores. */
  name: string;
  /** Meta's language code of the template's translation for each guest language (`es`, `en_US`, ...). */
  languages: { [L in Language]?: string | undefined };
  /** Body parameters in order (`{{1}}`, `{{2}}`, ...), each a text with `{placeholders}` (see {@link fillTemplate}). */
  parameters: string[];
}

/** A template message ready to send. */
export interface TemplateMessage {
  name: string;
  language: string;
  parameters: string[];
}

/** Meta's limits on a template name (≤ 512 characters, lowercase alphanumerics and `_`). */
export const templateNamePattern = /^[a-z0-9_]{1,512}$/;

/** The longest text parameter this system sends; Meta refuses longer body parameters. */
export const templateParameterMax = 1024;

/**
 * The template message for a guest in `language`: the template's translation for that language (else its first),
 * each parameter's `{placeholders}` replaced from `values` (an unknown one becomes empty), cut to what Meta takes.
 * Meta refuses an empty parameter, so an empty one becomes "-".
 */
export function fillTemplate(
  setting: TemplateSetting,
  language: Language,
  values: Record<string, string | undefined>,
): TemplateMessage {
  const code = setting.languages[language] ?? Object.values(setting.languages)[0] ?? language;
  const parameters = setting.parameters.map((p) => {
    const text = p.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? '').trim();
    const cut = Array.from(text);
    return cut.length === 0
      ? '-'
      : cut.length > templateParameterMax
        ? cut.slice(0, templateParameterMax).join('')
        : text;
  });
  return { name: setting.name, language: code, parameters };
}

/** Meta's `template` object for a template message (the body of `type: "template"`). */
export function graphTemplate(message: TemplateMessage): Record<string, unknown> {
  return {
    name: message.name,
    language: { code: message.language },
    ...(message.parameters.length > 0
      ? { components: [{ type: 'body', parameters: message.parameters.map((text) => ({ type: 'text', text })) }] }
      : {}),
  };
}
