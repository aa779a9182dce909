import type { Config } from '../common/config.js';
import { createAwsActivities, createStsClient } from './aws.js';

/** Every activity the worker registers, built once per process with its outside-system clients. */
export function createActivities(config: Pick<Config, 'AWS_REGION' | 'AWS_ENDPOINT_URL'>) {
  const sts = createStsClient({ region: config.AWS_REGION, endpoint: config.AWS_ENDPOINT_URL });
  return {
    activities: { ...createAwsActivities({ sts }) },
    close: () => sts.destroy(),
  };
}

export type Activities = ReturnType<typeof createActivities>['activities'];
