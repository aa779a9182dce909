// Every console page, in navigation order. A new page (say, post-hoc reviews of break-glass grants,
// or workload principals) is a module exporting a ConsolePage, with its views, listed here.
import type { ConsolePage } from '../context.js';
import { auditPage } from './audit.js';
import { authPages } from './auth.js';
import { grantPage } from './grant.js';
import { homePage } from './home.js';
import { livePage } from './live.js';
import { myGrantsPage } from './my-grants.js';
import { requestPage } from './request.js';
import { reviewsPage } from './reviews.js';

export const consolePages: readonly ConsolePage[] = [
  homePage,
  authPages,
  myGrantsPage,
  requestPage,
  reviewsPage,
  auditPage,
  grantPage,
  livePage,
];
