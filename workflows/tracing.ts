// Workflow interceptors for OpenTelemetry (bundled with every workflow through
// workflowInterceptorModules): a workflow's spans join the trace of the call that started it, and
// its activities' spans join the workflow's. Spans are exported by the worker through a sink,
// never from the sandbox, and add no command to history.
//
// Whether a workflow is traced is decided by its start alone: traced when the start carried a trace
// context (the front door traced it), for its whole life and on every replay. The interceptors
// add yield points, so switching them on for a workflow whose history was written without them
// breaks its replay (measured: a committed history fails with tracing on for every workflow);
// deciding from history keeps every workflow deterministic whatever the worker's setting.
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

type Inbound = Required<WorkflowInboundCallsInterceptor>;
type Outbound = Required<WorkflowOutboundCallsInterceptor>;

export const interceptors = (): WorkflowInterceptors => {
  let traced = false;
  let otel:
    | {
        inbound: OpenTelemetryInboundInterceptor;
        outbound: OpenTelemetryOutboundInterceptor;
        internals: OpenTelemetryInternalsInterceptor;
      }
    | undefined;
  const on = () => {
    otel ??= {
      inbound: new OpenTelemetryInboundInterceptor(),
      outbound: new OpenTelemetryOutboundInterceptor(),
      internals: new OpenTelemetryInternalsInterceptor(),
    };
    return otel;
  };
  const inbound: WorkflowInboundCallsInterceptor = {
    execute: (input, next) => {
      traced = input.headers[TRACE_HEADER] !== undefined;
      return traced ? on().inbound.execute(input, next) : next(input);
    },
    handleSignal: (input, next) => (traced ? on().inbound.handleSignal(input, next) : next(input)),
    handleUpdate: (input, next) => (traced ? on().inbound.handleUpdate(input, next) : next(input)),
    validateUpdate: (input, next) => (traced ? on().inbound.validateUpdate(input, next) : next(input)),
    handleQuery: (input, next) => (traced ? on().inbound.handleQuery(input, next) : next(input)),
  } satisfies Partial<Inbound>;
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (traced ? on().outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) =>
      traced ? on().outbound.scheduleLocalActivity(input, next) : next(input),
    startChildWorkflowExecution: (input, next) =>
      traced ? on().outbound.startChildWorkflowExecution(input, next) : next(input),
    continueAsNew: (input, next) => (traced ? on().outbound.continueAsNew(input, next) : next(input)),
    signalWorkflow: (input, next) => (traced ? on().outbound.signalWorkflow(input, next) : next(input)),
    getLogAttributes: (input, next) => (traced ? on().outbound.getLogAttributes(input, next) : next(input)),
  } satisfies Partial<Outbound>;
  const internals: WorkflowInternalsInterceptor = {
    dispose: (input, next) => (traced ? on().internals.dispose(input, next) : next(input)),
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
