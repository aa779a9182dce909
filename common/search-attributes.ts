import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Grants are listed by these; registered on the dev server by infra/ and on a cluster by the operator.
export const JitStatus = defineSearchAttributeKey('JitStatus', SearchAttributeType.KEYWORD);
export const JitRole = defineSearchAttributeKey('JitRole', SearchAttributeType.KEYWORD);
/** The requester's OIDC `sub`, never an email. */
export const JitRequester = defineSearchAttributeKey('JitRequester', SearchAttributeType.KEYWORD);
export const JitExpiresAt = defineSearchAttributeKey('JitExpiresAt', SearchAttributeType.DATETIME);

export const jitSearchAttributes = [JitStatus, JitRole, JitRequester, JitExpiresAt];
