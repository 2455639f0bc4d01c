import { isGrpcServiceError, ServiceError } from '@temporalio/client';

/** gRPC FAILED_PRECONDITION, which the server answers for an update aborted by a failed workflow task. */
const failedPrecondition = 9;

/**
 * Whether `err` is the server's "Unable to perform workflow execution update due to unexpected workflow task failure":
 * the workflow task that carried the update was failed by the server (for example `UnhandledCommand`: a signal or an
 * activity result arrived while the task was completing the run), so nothing of the update was recorded and sending it
 * again is safe. The client SDK passes it through as an unexpected gRPC error.
 */
export function isUpdateAbortedByTaskFailure(err: unknown): boolean {
  const grpc = err instanceof ServiceError ? err.cause : err;
  return (
    isGrpcServiceError(grpc) &&
    Number(grpc.code) === failedPrecondition &&
    /unexpected workflow task failure/i.test(grpc.details ?? grpc.message)
  );
}

/**
 * Runs an update call (`executeUpdate`, `startUpdate`) and runs it again while the server aborts it because its workflow
 * task failed (see {@link isUpdateAbortedByTaskFailure}), up to `attempts` times with a short growing pause. Any other
 * error, or the last abort, is thrown.
 */
export async function retryAbortedUpdate<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !isUpdateAbortedByTaskFailure(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
