import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath } from '../lib/codec';

/**
 * The workflow interceptors bundled with the workflows (a worker without a bundle names them in `workflowModules`):
 * tracing first, so the log context's lines are inside its spans.
 */
export const workflowInterceptorModules = [
  require.resolve('../workflows/tracing'),
  require.resolve('../workflows/log-context'),
];

type BundleLogger = NonNullable<Parameters<typeof bundleWorkflowCode>[0]['logger']>;

/**
 * Bundles `workflows/` with the SDK's bundler (webpack), the one set of bundle options for every bundle: the image's
 * (`npm run build` → dist/workflow-bundle.js, loaded by the worker through WORKFLOW_BUNDLE_PATH) and the tests'.
 * Resolved next to this file, so the sources are bundled under ts-jest and tsx, the compiled JS under dist/. With the
 * failure converter the worker's data converter names (lib/codec.ts), so failure messages are encrypted too.
 */
export function bundleWorkflows(logger?: BundleLogger): Promise<WorkflowBundleWithSourceMap> {
  const options = {
    failureConverterPath,
    // Spans for the run, its signals and its activities (workflows/tracing.ts); tenant and message id on every
    // workflow log line (workflows/log-context.ts).
    workflowInterceptorModules,
    ...(logger ? { logger } : {}),
  };
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), ...options });
}
