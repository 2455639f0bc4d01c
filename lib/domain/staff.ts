/**
 * Whether a guest asks for a person. A stop-gap rule until message understanding (intents) lands;
 * pure, so workflow code can call it.
 */
const patterns = [
  /\b(hablar|habla|contactar|comunicar(me)?)\s+con\s+(una\s+persona|alguien|recepci[oó]n|el\s+personal|un\s+humano|un\s+agente)/i,
  /\b(persona\s+real|humano|agente|recepcionista|recepci[oó]n)\b/i,
  /\b(talk|speak|chat)\s+(to|with)\s+(a\s+)?(person|human|someone|staff|reception|front\s*desk|agent|manager)\b/i,
  /\b(real\s+person|human|front\s*desk|reception(ist)?)\b/i,
];

export function asksForStaff(text: string): boolean {
  return patterns.some((p) => p.test(text));
}
