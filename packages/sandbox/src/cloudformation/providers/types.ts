import type { AwsEnvironment } from '../../aws/service';

/**
 * The registry-style resource-provider contract (as CloudFormation's own resource handlers and LocalStack's
 * ResourceProvider): each call returns a ProgressEvent; IN_PROGRESS means "call me again after
 * callbackDelaySeconds with this callbackContext", until SUCCESS or FAILED.
 */
export type ProgressStatus = 'IN_PROGRESS' | 'SUCCESS' | 'FAILED';

export interface ProgressEvent {
  status: ProgressStatus;
  /** Set once the physical resource exists (create), so a cancelled or failed create can still be cleaned up. */
  physicalId?: string;
  /** What Fn::GetAtt can read, on SUCCESS. */
  attributes?: Record<string, unknown>;
  /** FAILED: the handler's message, shown as "Resource handler returned message: …". */
  message?: string;
  /** FAILED: a handler error code (NotFound, AlreadyExists, InvalidRequest, GeneralServiceException …). */
  errorCode?: string;
  callbackContext?: Record<string, unknown>;
  /** Simulated seconds to wait before the next call. */
  callbackDelaySeconds?: number;
}

export type ProviderAction = 'create' | 'update' | 'delete';

export interface ResourceRequest {
  logicalId: string;
  stackName: string;
  stackId: string;
  /** Fully evaluated desired properties (create/update) or current ones (delete). */
  properties: Record<string, unknown>;
  /** update: the properties the resource has now. */
  previousProperties?: Record<string, unknown>;
  /** update/delete: the resource's current physical id. */
  physicalId?: string;
  /** update/delete: the resource's current attributes. */
  attributes?: Record<string, unknown>;
  /** Undefined on the first call of an action. */
  callbackContext?: Record<string, unknown>;
  /** Opaque per-call token (AWS shows it as RequestToken in handler messages). */
  requestToken: string;
}

/** Shared, in-service state providers may keep (resources without a sandbox service of their own). */
export interface ProviderState {
  ssmParameters: Map<string, { name: string; type: string; value: string; description?: string }>;
  iamPolicies: Map<
    string,
    { name: string; document: unknown; roles: string[]; users: string[]; groups: string[] }
  >;
  managedPolicies: Map<
    string,
    { arn: string; name: string; path: string; document: unknown; roles: string[] }
  >;
  instanceProfiles: Map<string, { name: string; arn: string; path: string; roles: string[]; id: string }>;
  /** Inline role policies (AWS::IAM::Role Policies) by role name. */
  roleInlinePolicies: Map<string, unknown[]>;
}

export interface ProviderContext {
  env: AwsEnvironment;
  state: ProviderState;
  /** Simulated seconds a resource of this type takes to stabilize (0 = done in one call). */
  delaySeconds: number;
}

export interface ResourceProvider {
  readonly type: string;
  /** Attribute names Fn::GetAtt may ask for. */
  readonly attributeNames: readonly string[];
  /** Needs CAPABILITY_IAM (or CAPABILITY_NAMED_IAM when `namingProperty` is set). */
  readonly iam?: boolean;
  /** The property that names the physical resource (BucketName, RoleName …), when there is one. */
  readonly namingProperty?: string;
  /** Default stabilization delay in simulated seconds; the service's providerDelaySeconds overrides it. */
  readonly defaultDelaySeconds: number;
  /** Whether changing from `before` to `after` needs a new physical resource (AWS's "Update requires: Replacement"). */
  requiresReplacement(before: Record<string, unknown>, after: Record<string, unknown>): boolean;
  /** The top-level properties whose change always forces replacement (for change-set Details). */
  readonly createOnlyProperties: readonly string[];
  /** What Ref returns. */
  ref(physicalId: string, attributes: Record<string, unknown>): string;
  create(request: ResourceRequest, context: ProviderContext): Promise<ProgressEvent>;
  update(request: ResourceRequest, context: ProviderContext): Promise<ProgressEvent>;
  delete(request: ResourceRequest, context: ProviderContext): Promise<ProgressEvent>;
}
