import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded by path (`failureConverterPath`, see lib/codec.ts) in the worker and inside the workflow bundle: a failure's
 * message and stack trace travel as an encoded payload, which the payload codec encrypts, instead of in clear
 * (Temporal then shows "Encoded failure").
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
