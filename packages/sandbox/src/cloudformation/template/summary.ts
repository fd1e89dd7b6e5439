import { messages } from './messages';
import { unique } from './references';
import { TemplateError } from './types';
import type { Template, TemplateSummary } from './types';

/**
 * IAM resource types that need CAPABILITY_IAM, and the property that makes them "named" (which needs
 * CAPABILITY_NAMED_IAM instead). AWS::IAM::Policy's PolicyName names an inline policy and does not count.
 */
const IAM_TYPES: ReadonlyMap<string, string | undefined> = new Map([
  ['AWS::IAM::Role', 'RoleName'],
  ['AWS::IAM::ManagedPolicy', 'ManagedPolicyName'],
  ['AWS::IAM::User', 'UserName'],
  ['AWS::IAM::Group', 'GroupName'],
  ['AWS::IAM::InstanceProfile', 'InstanceProfileName'],
  ['AWS::IAM::Policy', undefined],
  ['AWS::IAM::AccessKey', undefined],
  ['AWS::IAM::UserToGroupAddition', undefined],
]);

export const CAPABILITY_IAM = 'CAPABILITY_IAM';
export const CAPABILITY_NAMED_IAM = 'CAPABILITY_NAMED_IAM';
export const CAPABILITY_AUTO_EXPAND = 'CAPABILITY_AUTO_EXPAND';

/** What ValidateTemplate reports; also how CreateStack learns which capabilities it must have been given. */
export function summarize(template: Template, isKnownType: (type: string) => boolean): TemplateSummary {
  const resources = [...template.resources.values()];
  const unknownTypes = unique(
    resources.map((resource) => resource.type).filter((type) => !isKnownType(type)),
  );
  if (unknownTypes.length > 0) throw new TemplateError(messages.unrecognizedResourceTypes(unknownTypes));

  const iamResources = resources.filter((resource) => IAM_TYPES.has(resource.type));
  const named = iamResources.some((resource) => {
    const nameProperty = IAM_TYPES.get(resource.type);
    return nameProperty !== undefined && resource.properties[nameProperty] !== undefined;
  });
  const capabilities: string[] = [];
  if (iamResources.length > 0) capabilities.push(named ? CAPABILITY_NAMED_IAM : CAPABILITY_IAM);
  const declaredTransforms = template.transform ?? [];
  if (declaredTransforms.length > 0) capabilities.push(CAPABILITY_AUTO_EXPAND);

  const summary: TemplateSummary = {
    parameters: [...template.parameters.values()].map((parameter) => {
      const entry: TemplateSummary['parameters'][number] = { key: parameter.name, noEcho: parameter.noEcho };
      if (parameter.default !== undefined) entry.defaultValue = parameter.default;
      if (parameter.description !== undefined) entry.description = parameter.description;
      return entry;
    }),
    capabilities,
    declaredTransforms,
  };
  if (template.description !== undefined) summary.description = template.description;
  if (iamResources.length > 0) {
    summary.capabilitiesReason = messages.capabilitiesReason(
      unique(iamResources.map((resource) => resource.type)),
    );
  }
  return summary;
}

/**
 * The capabilities a template needs that the caller did not acknowledge, for CreateStack/CreateChangeSet's
 * InsufficientCapabilitiesException ("Requires capabilities : [CAPABILITY_IAM]"). CAPABILITY_NAMED_IAM also
 * covers CAPABILITY_IAM, as in AWS.
 */
export function missingCapabilities(summary: TemplateSummary, acknowledged: readonly string[]): string[] {
  return summary.capabilities.filter(
    (capability) =>
      !acknowledged.includes(capability) &&
      !(capability === CAPABILITY_IAM && acknowledged.includes(CAPABILITY_NAMED_IAM)),
  );
}
