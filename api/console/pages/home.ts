// The root URL: the sign-in page, or straight to "My grants" for someone signed in.
import type { ConsolePage } from '../context.js';

export const homePage: ConsolePage = {
  register(scope, ctx) {
    scope.get('/', async (req, reply) => {
      if (req.session.user) return reply.redirect('/grants', 303);
      return ctx.render(req, reply, 'home', { title: 'Sign in' });
    });
  },
};
