// Every workflow the broker's worker runs (bundled for the sandbox from here).
export { grantWorkflow } from './grant/lifecycle.js';
export { principalRevocationWorkflow } from './principal-revocation.js';
export { revocationLedgerWorkflow } from './revocation-ledger.js';
