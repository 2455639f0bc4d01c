import type { InfoTopic, Intent, StayRequest } from '../intents';
import type { Language } from '../language';

/** Which intent a message carries, what hotel topic it asks about, and which language its words lean to. */

const cues = {
  humanStrong: [
    /\b(?:hablar|habla|hablo|contactar|comunicar(?:me|nos)?|pasar(?:me)?|poner(?:me)?|atender(?:me)?)\s+con\s+(?:(?:una|un|el|la|alguna|algun)\s+)?(?:persona|alguien|humano|ser humano|agente|recepcion|recepcionista|personal|empleado|encargado|gerente|responsable|operador)/,
    /\b(?:persona\s+real|ser\s+humano|humano|agente|recepcionista|operador|atencion\s+al\s+cliente)\b/,
    /\b(?:quiero|necesito|prefiero)\s+(?:una\s+persona|un\s+humano|alguien)\b/,
    /\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:(?:a|an|the|your|some)\s+)?(?:person|human|someone|somebody|staff|reception|front\s+desk|agent|manager|representative|receptionist|real\s+person|operator|people)\b/,
    /\b(?:real\s+person|human\s+being|a\s+human|human|live\s+agent|customer\s+service|representative|operator)\b/,
    /\b(?:llamame|llamadme|me\s+pueden\s+llamar|call\s+me|can\s+you\s+call)\b/,
  ],
  humanWeak: [/\b(?:recepcion|reception|front\s+desk|receptionist|staff|personal\s+del\s+hotel|encargado|manager)\b/],
  cancel: [
    /\b(?:cancelar|cancela|cancelo|cancelad|cancelen|cancelame|cancelacion|anular|anula|anulo|anulen|anulacion|cancel|cancelling|canceling|cancellation)\b/,
  ],
  /** "¿Cuál es la política de cancelación?" asks about the hotel, it cancels nothing. */
  cancelPolicy: [
    /\b(?:politica|condiciones|policy|terms|gratis|gratuita|gratuito|free|fee|penalizacion|penalty|coste|cuesta|cost)\b/,
  ],
  book: [
    /\b(?:reservar|reservo|reservame|reservamela|reservamelo|reservarla|reservarlo|reservala|reservalo|reservemos|reservaria|reservariamos|reservad)\b/,
    /(?<!\b(?:mi|tu|su|nuestra|vuestra|la|esta|esa)\s)\breserva\s+(?:la|el|esa|ese|esta|este|para)\b/,
    /\b(?:hacer|quiero|quisiera|queremos|quisieramos|gustaria\s+hacer)\s+(?:una\s+)?reserva\b/,
    /\b(?:me\s+(?:la|lo)\s+quedo|nos\s+(?:la|lo)\s+quedamos|me\s+quedo\s+con|nos\s+quedamos\s+con|confirmo|confirmamos|la\s+quiero|lo\s+quiero|la\s+cojo|elijo|escojo)\b/,
    /\b(?:book|reserve)\b/,
    /\b(?:make|do|place)\s+a\s+(?:booking|reservation)\b/,
    /(?<!\b(?:my|our|the|your)\s)\b(?:booking|reservation)\s+for\b/,
    /\b(?:ill|i\s+will|well|we\s+will|id|i\s+would|wed|we\s+would)\s+(?:take|like\s+to\s+take|go\s+with)\b/,
    /\b(?:take\s+(?:it|that|this)|go\s+ahead|(?:i|we)\s+confirm|lets\s+do\s+it)\b/,
  ],
  /** Asking for rooms: wins over an info topic only when said outright ("disponibilidad", "habitación para"). */
  availabilityStrong: [
    /\b(?:disponibilidad|availability|vacanc(?:y|ies))\b/,
    /\b(?:habitacion(?:es)?|cuartos?|rooms?)\s+(?:para|for|libres?|disponibles?|available|free)\b/,
    /\b(?:busco|buscamos|necesito|necesitamos|quiero|quisiera|queremos|looking\s+for|need|want|would\s+like)\s+(?:(?:una|un|a|an)\s+)?(?:habitacion|cuarto|room|alojamiento|accommodation)\b/,
  ],
  availabilityRooms: [
    /\b(?:tienen|teneis|tiene|tienes|hay|habra|habria|queda|quedan|tendrian|tendrias|tendra|disponen|have|has|got|is\s+there|are\s+there|any)\b[^,.]{0,40}?\b(?:habitacion(?:es)?|hab|cuartos?|sitio|plazas?|hueco|camas?|rooms?|space|beds?|suites?|dobles?)\b/,
  ],
  availabilityWeak: [
    /\b(?:available|disponibles?|libres?|precio|precios|tarifas?|cuanto\s+(?:cuesta|vale|sale|es)|price|prices|rates?|how\s+much|cost)\b/,
  ],
  timeQuestion: [/\b(?:a\s+que\s+hora|que\s+hora|what\s+time|when|cuando|horario|hora\s+de|hours?)\b/],
  thanks: [
    /\b(?:gracias|agradezco|agradecid[oa]|thanks?|thank\s+you|thx|ty|cheers|much\s+appreciated|appreciate\s+it)\b/,
  ],
  greeting: [
    /\b(?:hola+|holi|buenas|buenos\s+dias|buen\s+dia|saludos|que\s+tal|hey|hi|hello|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day))\b/,
  ],
};

/** Topics in the order they are tried: specific ones first ("¿dónde está el parking?" is about parking). */
const topics: [InfoTopic, RegExp][] = [
  [
    'parking',
    /\b(?:parking|aparcamiento|aparcar|aparco|estacionamiento|estacionar|garaje|garage|car\s+park|park\s+(?:my|the|our)\s+car)\b/,
  ],
  ['wifi', /\b(?:wi\s*-?\s*fi|internet|contrasena|password|clave\s+del\s+wifi|wireless)\b/],
  [
    'breakfast',
    /\b(?:desayunos?|desayunar|breakfast|media\s+pension|pension\s+completa|half\s+board|full\s+board|brunch)\b/,
  ],
  ['pets', /\b(?:mascotas?|perros?|perrito|perrita|gatos?|animales|pets?|dogs?|cats?|animals|pet\s*-?\s*friendly)\b/],
  [
    'check_out',
    /\b(?:check\s*-?\s*out|hora\s+de\s+salida|late\s+check|departure\s+time|(?:a\s+que\s+hora|cuando|hasta\s+que\s+hora)\s+(?:hay\s+que|tengo\s+que|tenemos\s+que|debo|debemos|se\s+debe|puedo|podemos)\s+(?:salir|dejar|irnos|irme)|what\s+time\s+(?:do|must|should)\s+(?:i|we)\s+(?:leave|check\s+out))\b/,
  ],
  [
    'check_in',
    /\b(?:check\s*-?\s*in|hora\s+de\s+(?:llegada|entrada)|early\s+check|arrival\s+time|(?:a\s+que\s+hora|cuando|desde\s+que\s+hora)\s+(?:puedo|podemos|se\s+puede)\s+(?:llegar|entrar)|what\s+time\s+can\s+(?:i|we)\s+(?:arrive|get\s+in)|(?:llegamos|llegare|llegaremos|llego)\s+(?:tarde|a\s+las|sobre\s+las|hacia\s+las)|late\s+arrival|(?:arrive|arriving|get\s+there|be\s+there)\s+(?:late|at|around))\b/,
  ],
  [
    'address',
    /\b(?:donde\s+(?:estan|esta|queda|quedan|se\s+encuentra|se\s+encuentran|se\s+ubica)|direccion|ubicacion|localizacion|como\s+(?:llego|llegar|se\s+llega|llegamos)|address|where\s+(?:are\s+you|is\s+the\s+hotel|is\s+it|is\s+the\s+property)|location|located|directions|how\s+(?:do|can)\s+(?:i|we)\s+get\s+there)\b/,
  ],
  [
    'general',
    /\b(?:informacion|info|information|servicios|amenities|facilities|instalaciones|piscina|pool|gimnasio|gym|spa|restaurante|restaurant|normas|house\s+rules|tell\s+me\s+about|sobre\s+el\s+hotel|about\s+the\s+hotel)\b/,
  ],
];

const englishHints =
  /\b(?:january|february|march|april|june|july|august|september|october|november|december|jan|apr|aug|oct|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|tomorrow|weekend|nights?|adults?|child|children|kids|from|to|until|book|booking|cancel|breakfast|pets?|dogs?|see|availability|available|rooms?|price|we|will|arrive|arriving|leave|leaving|late|early|around)\b/g;
const spanishHints =
  /\b(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|ene|abr|ago|dic|lunes|martes|miercoles|jueves|viernes|sabado|domingo|manana|noches?|finde|adultos?|ninos?|al|del|hasta|reservar|reserva|recepcion|desayuno|aparcamiento|mascotas?|perros?|ver|disponibilidad|disponibles?|habitacion(?:es)?|precio|llegamos|llegaremos|llego|salimos|tarde|temprano)\b/g;

/** For texts `detectLanguage` has no opinion on ("Dec 3-5", "recepción"): the words of this module's lexicon. */
export function languageHint(text: string): Language | undefined {
  const en = text.match(englishHints)?.length ?? 0;
  const es = text.match(spanishHints)?.length ?? 0;
  return en === es ? undefined : en > es ? 'en' : 'es';
}

const any = (patterns: RegExp[], text: string) => patterns.some((p) => p.test(text));

export function topicOf(text: string): InfoTopic | undefined {
  return topics.find(([, pattern]) => pattern.test(text))?.[0];
}

export interface Entities {
  stay: StayRequest;
  /** The dates came from two dates the guest gave, not one date and an assumed length. */
  range: boolean;
  choice?: number;
  topic?: InfoTopic;
}

/**
 * Which intent wins when a message has cues for several, first match wins:
 *  1. human, when asked outright ("hablar con una persona") — whatever else the message says;
 *  2. cancel_booking ("cancelar mi reserva"), unless it asks about the cancellation policy (hotel_info);
 *  3. book: a booking verb or an option picked ("reservar la 2"), with the stay if dates were given;
 *  4. availability when rooms are asked for ("¿tienen habitación…?", "room for two"), unless the message
 *     is really about an info topic and has no dates ("¿hay habitaciones con wifi?" is about wifi);
 *  5. hotel_info for a topic (address, check-in, parking, ...); but "check in dec 3, check out dec 5" with
 *     a date range and no "what time" is availability;
 *  6. availability when the message carries a stay (dates, nights or guests: "del 3 al 5", "2 adultos")
 *     or asks a price ("¿cuánto cuesta?");
 *  7. human for a bare "recepción" / "front desk";
 *  8. thanks, then greeting: the weakest, so "hola, ¿tienen habitación del 3 al 5?" is availability;
 *  9. unknown.
 */
export function decideIntent(text: string, e: Entities, hasNights: boolean): Intent {
  if (any(cues.humanStrong, text)) return 'human';
  if (any(cues.cancel, text)) return any(cues.cancelPolicy, text) ? 'hotel_info' : 'cancel_booking';
  if (e.choice !== undefined || any(cues.book, text)) return 'book';
  const hasDates = e.stay.checkIn !== undefined;
  const timeQuestion = any(cues.timeQuestion, text);
  if (any(cues.availabilityStrong, text) || any(cues.availabilityRooms, text)) {
    const explicit = /\b(?:disponibilidad|availability|vacanc(?:y|ies)|libres?|disponibles?|available|free)\b/.test(
      text,
    );
    if (!(e.topic && !hasDates && !explicit)) return 'availability';
  }
  if (e.topic) {
    const stayAboutCheckInOut = (e.topic === 'check_in' || e.topic === 'check_out') && e.range && !timeQuestion;
    return stayAboutCheckInOut ? 'availability' : 'hotel_info';
  }
  const hasStay = hasDates || hasNights || e.stay.adults !== undefined || e.stay.children !== undefined;
  if (hasStay || any(cues.availabilityWeak, text)) return 'availability';
  if (any(cues.humanWeak, text)) return 'human';
  if (any(cues.thanks, text)) return 'thanks';
  if (any(cues.greeting, text)) return 'greeting';
  return 'unknown';
}
