export { grantWorkflow } from './grant.js';
export { revocationLedgerWorkflow } from './revocation-ledger.js';
