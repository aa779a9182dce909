// The codec server for the Temporal UI and CLI (`--codec-endpoint`): decodes the broker's encrypted
// payloads for people policy allows (Cedar `decodePayloads`). It never encodes: an operator who
// could encode could mint payloads the workers accept. Every decode is logged (who, how many).
import cors from '@fastify/cors';
import type { PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PolicyEngine } from '../../policies/engine.js';
import { ApiError } from '../errors.js';

const base64 = z
  .string()
  .max(4 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const payload = z.object({
  metadata: z.record(z.string().max(256), base64).optional(),
  data: base64.optional(),
});
const payloads = z.object({ payloads: z.array(payload).max(1000) });

export async function registerCodecRoutes(
  app: FastifyInstance,
  deps: { engine: PolicyEngine; codec: PayloadCodec; corsOrigins: string[] },
): Promise<void> {
  await app.register(async (scope) => {
    // The Temporal UI calls from its own origin; only the configured ones may.
    await scope.register(cors, {
      origin: deps.corsOrigins,
      methods: ['POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-namespace'],
      credentials: true,
    });
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/codec/decode',
      {
        bodyLimit: 8 * 1024 * 1024,
        schema: { tags: ['operations'], body: payloads, response: { 200: payloads } },
      },
      async (req) => {
        if (!deps.engine.mayDecodePayloads(req.principal))
          throw new ApiError('forbidden', 'only auditors and operators may decode payloads');
        const decoded = await deps.codec.decode(
          req.body.payloads.map((p) => ({
            metadata: Object.fromEntries(
              Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
            ),
            data: Buffer.from(p.data ?? '', 'base64'),
          })),
        );
        req.log.info({ by: req.principal.sub, payloads: decoded.length }, 'payloads decoded for an operator');
        return {
          payloads: decoded.map((p) => ({
            metadata: Object.fromEntries(
              Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(p.data ?? []).toString('base64'),
          })),
        };
      },
    );
  });
}
