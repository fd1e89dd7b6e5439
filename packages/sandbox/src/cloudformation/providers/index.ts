import { iamInstanceProfileProvider } from './iam-instance-profile';
import { iamOidcProviderProvider } from './iam-oidc-provider';
import { iamManagedPolicyProvider, iamPolicyProvider } from './iam-policies';
import { iamRoleProvider } from './iam-role';
import { ProviderRegistry } from './registry';
import { s3BucketProvider } from './s3-bucket';
import { ssmParameterProvider } from './ssm-parameter';
import type { ProviderState } from './types';
import { waitConditionHandleProvider } from './wait-condition-handle';

export { ProviderRegistry } from './registry';
export type * from './types';

/** The providers of this issue; later issues call `register` on the returned registry with their own. */
export function createDefaultRegistry(): ProviderRegistry {
  return new ProviderRegistry().register(
    s3BucketProvider,
    iamRoleProvider,
    iamPolicyProvider,
    iamManagedPolicyProvider,
    iamInstanceProfileProvider,
    iamOidcProviderProvider,
    ssmParameterProvider,
    waitConditionHandleProvider,
  );
}

export function createProviderState(): ProviderState {
  return {
    ssmParameters: new Map(),
    iamPolicies: new Map(),
    managedPolicies: new Map(),
    instanceProfiles: new Map(),
    roleInlinePolicies: new Map(),
  };
}
