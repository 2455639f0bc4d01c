export type Language = 'es' | 'en';

const spanishWords = new Set([
  'hola', 'buenas', 'buenos', 'dias', 'días', 'tardes', 'noches', 'gracias', 'quiero', 'quisiera', 'necesito',
  'habitación', 'habitacion', 'habitaciones', 'reserva', 'reservar', 'tienen', 'tiene', 'hay', 'para', 'por',
  'favor', 'noche', 'cuánto', 'cuanto', 'cuesta', 'precio', 'ayuda', 'dónde', 'donde', 'está', 'esta', 'el',
  'la', 'los', 'las', 'una', 'un', 'del', 'de', 'con', 'que', 'qué', 'sí', 'si', 'adultos', 'niños', 'fin',
  'semana', 'mañana', 'hoy', 'cancelar', 'persona', 'hablar', 'llegada', 'salida', 'me', 'mi', 'es', 'y',
]);
const englishWords = new Set([
  'hello', 'hi', 'hey', 'good', 'morning', 'evening', 'thanks', 'thank', 'you', 'want', 'would', 'like', 'need',
  'room', 'rooms', 'book', 'booking', 'reservation', 'do', 'have', 'is', 'there', 'for', 'please', 'night',
  'how', 'much', 'price', 'help', 'where', 'the', 'a', 'an', 'of', 'with', 'what', 'yes', 'adults', 'kids',
  'children', 'weekend', 'tomorrow', 'today', 'cancel', 'person', 'talk', 'speak', 'check', 'in', 'out', 'my',
  'i', 'and', 'it', 'come', 'another', 'color', 'does', 'can',
]);

/**
 * Guesses whether a guest writes Spanish or English from the words they use.
 * Returns `undefined` when the text gives no signal, so the caller keeps the conversation's language.
 */
export function detectLanguage(text: string): Language | undefined {
  const lower = text.toLowerCase();
  if (/[¿¡ñ]/.test(lower)) return 'es';
  let es = 0;
  let en = 0;
  for (const word of lower.split(/[^\p{L}]+/u)) {
    if (!word) continue;
    if (spanishWords.has(word)) es++;
    if (englishWords.has(word)) en++;
  }
  if (es === en) return undefined;
  return es > en ? 'es' : 'en';
}
