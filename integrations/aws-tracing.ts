// A span per AWS SDK call (`STS.AssumeRole`, `IAM.PutRolePolicy`, ...), as a child of whatever is
// traced when the call is made. By hand rather than @opentelemetry/instrumentation-aws-sdk: the
// SDK's current releases moved the modules that instrumentation patches into @smithy/core.
// Records the service, the operation, the region and AWS's request id: never parameters or results.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<{ output?: { $metadata?: { requestId?: string } } }>,
        context: { clientName?: string; commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; override?: boolean },
    ): void;
  };
  config: { region?: unknown };
}

export function traceAwsCalls<T>(client: T): T {
  const { middlewareStack, config } = client as unknown as MiddlewareClient;
  middlewareStack.add(
    (next, context) => async (args) => {
      // Nothing traced (tracing off, or a call outside any operation): no span, no cost.
      if (!trace.getActiveSpan()) return next(args);
      const service = (context.clientName ?? 'AWS').replace(/Client$/, '');
      const operation = (context.commandName ?? 'call').replace(/Command$/, '');
      const tracer = trace.getTracer('jit-broker/aws');
      return tracer.startActiveSpan(`${service}.${operation}`, { kind: SpanKind.CLIENT }, async (span) => {
        span.setAttributes({ 'rpc.system': 'aws-api', 'rpc.service': service, 'rpc.method': operation });
        const region = typeof config.region === 'function' ? await config.region() : config.region;
        if (typeof region === 'string') span.setAttribute('cloud.region', region);
        try {
          const result = await next(args);
          const requestId = result.output?.$metadata?.requestId;
          if (requestId) span.setAttribute('aws.request_id', requestId);
          return result;
        } catch (err) {
          const { name, $metadata } = err as { name?: string; $metadata?: { requestId?: string } };
          if ($metadata?.requestId) span.setAttribute('aws.request_id', $metadata.requestId);
          span.setStatus({ code: SpanStatusCode.ERROR, message: name ?? 'error' });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    { step: 'initialize', name: 'jitTracing', override: true },
  );
  return client;
}
