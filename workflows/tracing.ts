// Workflow interceptors for OpenTelemetry (bundled with every workflow through
// workflowInterceptorModules): a workflow's spans join the trace of the call that started or
// updated it, and its activities' spans join the workflow's. On only when the worker traces (its
// prelude sets the flag, worker/tracing-prelude.ts): otherwise no span is made at all. Spans are
// exported by the worker through a sink, never from the sandbox; they add no command to history.
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const TRACING_GLOBAL = '__JIT_WORKFLOW_TRACING__';

export const interceptors = (): WorkflowInterceptors =>
  (globalThis as Record<string, unknown>)[TRACING_GLOBAL] === true
    ? {
        inbound: [new OpenTelemetryInboundInterceptor()],
        outbound: [new OpenTelemetryOutboundInterceptor()],
        internals: [new OpenTelemetryInternalsInterceptor()],
      }
    : {};
