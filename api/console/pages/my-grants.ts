// "My grants": the signed-in person's own grants, newest first, with where each stands.
import { endedStatuses, type GrantStatus } from '../../../common/grant.js';
import type { ConsolePage } from '../context.js';
import { myGrantsQuery, parseForm } from '../forms.js';

const shown: Record<string, GrantStatus[] | undefined> = {
  all: undefined,
  pending: ['pending'],
  active: ['active'],
  ended: [...endedStatuses],
};

export const myGrantsPage: ConsolePage = {
  nav: { path: '/grants', label: 'My grants', visible: () => true },
  register(scope, ctx) {
    scope.get('/grants', { preHandler: ctx.signedIn }, async (req, reply) => {
      const query = parseForm(myGrantsQuery, req.query);
      const show = query.show ?? 'all';
      const status = shown[show];
      // Read before the list: a change in between makes the page refresh rather than miss it.
      const version = await ctx.deps.store.grants.lastChange();
      const page = await ctx.deps.grants.list(req.principal, {
        requester: req.principal.sub,
        ...(status ? { status } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        limit: 25,
      });
      return ctx.render(req, reply, 'my-grants', {
        title: 'My grants',
        grants: page.items,
        show,
        nextCursor: page.nextCursor,
        canRequest: ctx.deps.grants.requestableRoles(req.principal).length > 0,
        live: { url: '/live', version },
      });
    });
  },
};
