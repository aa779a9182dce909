// Every workflow the broker's worker runs (bundled for the sandbox from here).
export { breakglassReviewWorkflow } from './breakglass-review/workflow.js';

export { doorRecordWorkflow } from './door-record.js';
export { grantWorkflow } from './grant/lifecycle.js';
export { grantReconcilerWorkflow } from './grant-reconciler.js';
export { revocationLedgerWorkflow } from './revocation-ledger.js';
