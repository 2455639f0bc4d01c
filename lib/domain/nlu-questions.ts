/**
 * The question the conversation asks back when a stay cannot be used as the guest said it.
 * Pure, so workflow code can call it.
 */
import type { StayProblem } from './intents';
import type { Language } from './language';

const questions: Record<Language, (problem: StayProblem, maxStayNights: number) => string> = {
  es: (problem, max) => {
    switch (problem) {
      case 'missing_dates':
        return '¿Para qué fechas? Dime el día de llegada y el de salida y cuántas personas sois (por ejemplo: "del 3 al 5 de diciembre, 2 adultos").';
      case 'checkout_before_checkin':
        return 'La salida tiene que ser después de la llegada. ¿Qué día llegas y qué día te vas? Por ejemplo: "del 3 al 5 de diciembre".';
      case 'in_the_past':
        return 'Esas fechas ya han pasado. ¿Para qué fechas buscas habitación? Por ejemplo: "del 3 al 5 de diciembre".';
      case 'too_long':
        return `Por aquí puedo buscar estancias de hasta ${max} ${max === 1 ? 'noche' : 'noches'}. ¿Me das unas fechas más cortas? Para una estancia más larga, escribe "recepción" y te atenderá una persona.`;
    }
  },
  en: (problem, max) => {
    switch (problem) {
      case 'missing_dates':
        return 'For which dates? Tell me the check-in and check-out days and how many guests (for example: "December 3 to 5, 2 adults").';
      case 'checkout_before_checkin':
        return 'Check-out has to be after check-in. Which day do you arrive and which day do you leave? For example: "December 3 to 5".';
      case 'in_the_past':
        return 'Those dates have already passed. Which dates are you looking for? For example: "December 3 to 5".';
      case 'too_long':
        return `Here I can look for stays of up to ${max} ${max === 1 ? 'night' : 'nights'}. Could you give me shorter dates? For a longer stay, write "reception" and a person will help you.`;
    }
  },
};

/** The question that asks the guest to fix `problem`, in their language. */
export function clarifyingQuestion(problem: StayProblem, language: Language, maxStayNights: number): string {
  return questions[language](problem, maxStayNights);
}
