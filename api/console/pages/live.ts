// Live updates: a server-sent event stream that says when what a page shows has changed, read from
// the read model (a grant's last folded position, or the head of the trail), never from Temporal.
// The page then fetches itself again and swaps the parts that changed (assets/console.js).
import type { ServerResponse } from 'node:http';
import { ApiError } from '../../errors.js';
import type { ConsolePage } from '../context.js';
import { liveQuery, parseForm } from '../forms.js';

const TICK_MS = 1000;
// Every this many ticks: a comment line keeps proxies from closing the stream, and the session is
// looked up again so a sign-out elsewhere ends the stream.
const CHECK_EVERY = 15;

export const livePage: ConsolePage = {
  register(scope, ctx) {
    const { store, grants } = ctx.deps;
    const open = new Set<() => void>();
    // Streams never end on their own; the server's close must not wait for them.
    scope.addHook('preClose', async () => {
      for (const stop of [...open]) stop();
    });

    scope.get('/live', { preHandler: ctx.signedIn }, async (req, reply) => {
      const { grant } = parseForm(liveQuery, req.query);
      if (grant !== undefined) await grants.get(req.principal, grant); // 404 unless visible
      const user = req.session.user;
      if (!user) throw new ApiError('unauthenticated', 'not signed in');
      const sessionId = req.session.sessionId;
      const endsAt = user.sessionEndsAt;

      reply.hijack();
      const res: ServerResponse = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-request-id': req.id,
      });
      res.write('retry: 5000\n\n');

      let last: number | undefined;
      let ticks = 0;
      let timer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (!open.delete(stop)) return;
        clearTimeout(timer);
        res.end();
      };
      const tick = async () => {
        ticks += 1;
        if (Date.now() >= endsAt) return stop();
        if (ticks % CHECK_EVERY === 0) {
          if (!(await store.consoleSessions.get(sessionId))) return stop();
          res.write(': still here\n\n');
        }
        const version = await store.grants.lastChange(grant);
        if (version !== last) {
          last = version;
          res.write(`event: change\ndata: ${version}\n\n`);
        }
        if (open.has(stop)) timer = setTimeout(run, TICK_MS);
      };
      const run = () => {
        tick().catch((err: unknown) => {
          req.log.warn({ err: (err as Error).message }, 'live update stream stopped');
          stop();
        });
      };
      open.add(stop);
      req.raw.on('close', stop);
      run();
      return reply;
    });
  },
};
