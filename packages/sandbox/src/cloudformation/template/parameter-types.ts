/** AWS-specific parameter types: strings that AWS checks against the account; the sandbox accepts any string. */
const AWS_SPECIFIC_TYPES = new Set([
  'AWS::EC2::AvailabilityZone::Name',
  'AWS::EC2::Image::Id',
  'AWS::EC2::Instance::Id',
  'AWS::EC2::KeyPair::KeyName',
  'AWS::EC2::SecurityGroup::GroupName',
  'AWS::EC2::SecurityGroup::Id',
  'AWS::EC2::Subnet::Id',
  'AWS::EC2::Volume::Id',
  'AWS::EC2::VPC::Id',
  'AWS::Route53::HostedZone::Id',
]);

const SSM_VALUE_PREFIX = 'AWS::SSM::Parameter::Value<';

function listElementType(type: string): string | undefined {
  return type.startsWith('List<') && type.endsWith('>') ? type.slice(5, -1) : undefined;
}

export function isRecognizedParameterType(type: string): boolean {
  if (
    ['String', 'Number', 'List<Number>', 'CommaDelimitedList', 'AWS::SSM::Parameter::Name'].includes(type)
  ) {
    return true;
  }
  if (AWS_SPECIFIC_TYPES.has(type)) return true;
  const element = listElementType(type);
  if (element !== undefined) return AWS_SPECIFIC_TYPES.has(element);
  if (type.startsWith(SSM_VALUE_PREFIX) && type.endsWith('>')) {
    const inner = type.slice(SSM_VALUE_PREFIX.length, -1);
    return (
      ['String', 'List<String>', 'CommaDelimitedList'].includes(inner) ||
      AWS_SPECIFIC_TYPES.has(inner) ||
      AWS_SPECIFIC_TYPES.has(listElementType(inner) ?? '')
    );
  }
  return false;
}

/**
 * SSM-backed parameters: the given value is the name of an SSM parameter, which AWS resolves at deploy time.
 * The sandbox has no SSM yet, so the name itself is used as the value (kept as a single string).
 */
export function isSsmValueType(type: string): boolean {
  return type.startsWith(SSM_VALUE_PREFIX);
}

/** Types whose value Ref returns as a list of strings. */
export function isListParameterType(type: string): boolean {
  return !isSsmValueType(type) && (type === 'CommaDelimitedList' || listElementType(type) !== undefined);
}

export function isNumericParameterType(type: string): boolean {
  return type === 'Number' || type === 'List<Number>';
}
