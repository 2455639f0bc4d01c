import { ServiceError } from '@temporalio/client';
import { isUpdateAbortedByTaskFailure, retryAbortedUpdate } from '../../lib/temporal-updates';

/** A gRPC error as @grpc/grpc-js builds it: code, details, metadata. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

/** What `executeUpdate` throws when the server fails the workflow task that carried the update (UnhandledCommand). */
const aborted = () =>
  new ServiceError('Unexpected error while making gRPC request', {
    cause: grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.'),
  });

describe('an update aborted by a failed workflow task', () => {
  it('is recognised, wrapped by the client or not, and nothing else is', () => {
    expect(isUpdateAbortedByTaskFailure(aborted())).toBe(true);
    expect(
      isUpdateAbortedByTaskFailure(
        grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.'),
      ),
    ).toBe(true);
    expect(isUpdateAbortedByTaskFailure(grpcError(9, 'Namespace is not active'))).toBe(false);
    expect(isUpdateAbortedByTaskFailure(grpcError(14, 'unexpected workflow task failure'))).toBe(false);
    expect(isUpdateAbortedByTaskFailure(new Error('unexpected workflow task failure'))).toBe(false);
  });

  it('is sent again until it goes through; other errors and the last abort are thrown', async () => {
    let calls = 0;
    await expect(
      retryAbortedUpdate(() => {
        calls++;
        return calls < 3 ? Promise.reject(aborted()) : Promise.resolve('closed');
      }),
    ).resolves.toBe('closed');
    expect(calls).toBe(3);

    calls = 0;
    const refused = new Error('refused by the validator');
    await expect(
      retryAbortedUpdate(() => {
        calls++;
        return Promise.reject(refused);
      }),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      retryAbortedUpdate(() => {
        calls++;
        return Promise.reject(aborted());
      }, 3),
    ).rejects.toBeInstanceOf(ServiceError);
    expect(calls).toBe(3);
  });
});
