// OpenTelemetry tracing for the API and the worker: off unless an OTLP endpoint is configured with
// the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and
// off whenever OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. Everything else (headers,
// sampler, batch sizes, resource attributes, service name) is the SDK's own OTEL_* handling.
// Must run before fastify is loaded: the HTTP instrumentation hooks `require`.
import { type Attributes, context, type Span, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
// The client part alone: the package's index also loads the worker and the workflow sandbox's parts.
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';

export interface Tracing {
  /** The processor every span leaves through (workflow spans from the worker's sink too). */
  processor: SpanProcessor;
  resource: Resource;
  /** Sends what is buffered, then stops. */
  shutdown(): Promise<void>;
}

let current: Tracing | undefined;

/** Whether the standard variables ask for traces. */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? 'otlp').toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The running tracing, when it is on. */
export function tracing(): Tracing | undefined {
  return current;
}

/** Starts tracing once per process when the environment asks for it; a no-op otherwise. */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (current || !tracingWanted(env)) return current;
  const resource = new Resource({ 'service.name': serviceName }).merge(
    detectResourcesSync({ detectors: [envDetectorSync] }),
  );
  const processor = new BatchSpanProcessor(new RedactingExporter(new OTLPTraceExporter()));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are noise. AWS SDK calls get their own spans (integrations/aws-tracing.ts).
        ignoreIncomingRequestHook: (req) => /^\/(metrics|healthz|readyz)\b/.test(req.url ?? ''),
      }),
    ],
  });
  current = { processor, resource, shutdown: () => provider.shutdown() };
  return current;
}

/** What a span may say about a grant: never its reason, a token or a secret. */
export interface GrantSpanFields {
  grantId?: string | undefined;
  role?: string | undefined;
  /** The grant's status after the operation, or the error code that refused it. */
  outcome?: string | undefined;
}

/** Puts the grant's id, role and outcome on the active span (nothing when tracing is off). */
export function annotateGrant(fields: GrantSpanFields, span: Span | undefined = trace.getActiveSpan()): void {
  if (!span) return;
  const attributes: Attributes = {};
  if (fields.grantId) attributes['jit.grant_id'] = fields.grantId;
  if (fields.role) attributes['jit.role'] = fields.role;
  if (fields.outcome) attributes['jit.outcome'] = fields.outcome;
  span.setAttributes(attributes);
}

/** The active trace id, for log lines; undefined when tracing is off or nothing is traced. */
export function activeTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  const ctx = span?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : undefined;
}

// Attribute keys that name secret material, and URL attributes whose query may carry it.
const SECRET_KEY = /token|secret|password|passwd|credential|authorization|cookie|session_?key|private/i;
const URL_KEY = /(^|\.)(url|target|full|query)$/i;
const SECRET_VALUE = /(AKIA|ASIA)[A-Z0-9]{16}|eyJ[\w-]{10,}\.[\w-]{10,}|xox[abprs]-[\w-]+/g;

/** Attributes with secret-looking keys dropped, query strings cut, secret-shaped values masked. */
export function redactAttributes(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (SECRET_KEY.test(key)) continue;
    if (typeof value !== 'string') {
      out[key] = value;
      continue;
    }
    let text = URL_KEY.test(key) ? value.replace(/\?.*$/s, '') : value;
    text = text.replace(SECRET_VALUE, '[redacted]');
    out[key] = text;
  }
  return out;
}

/**
 * Defence in depth on the wire: whatever an instrumentation records (a URL with a query, a header,
 * an exception message quoting a token), the exported span carries no secret-looking attribute.
 */
export class RedactingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    try {
      this.inner.export(spans.map(redactSpan), done);
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

function redactSpan(span: ReadableSpan): ReadableSpan {
  const events = span.events.map((event) =>
    event.attributes ? { ...event, attributes: redactAttributes(event.attributes) } : event,
  );
  // A prototype-preserving copy: exporters read getters and fields of the original span.
  return Object.assign(Object.create(span) as ReadableSpan, {
    attributes: redactAttributes(span.attributes),
    events,
  });
}

/** The Temporal client's interceptors: trace context into starts, updates and signals when tracing is on. */
export function temporalClientInterceptors(): { workflow?: OpenTelemetryWorkflowClientInterceptor[] } {
  return current ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : {};
}
