// Every workflow the broker's worker runs (bundled for the sandbox from here).

export { doorRecordWorkflow } from './door-record.js';
export { grantWorkflow } from './grant/lifecycle.js';
export { revocationLedgerWorkflow } from './revocation-ledger.js';
