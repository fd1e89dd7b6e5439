/**
 * The CloudFormation template engine's public shapes. The engine is pure (no I/O, no timers): the service
 * (../service.ts) parses and validates with it, and evaluates properties and outputs as resources complete.
 *
 * Every engine failure is a TemplateError whose message is AWS's exact ValidationError text, e.g.
 * "Template format error: Unresolved resource dependencies [Bucket] in the Resources block of the template".
 */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface ParameterDeclaration {
  name: string;
  /** String | Number | List<Number> | CommaDelimitedList | AWS-specific types (AWS::EC2::KeyPair::KeyName, …) | AWS::SSM::Parameter::Value<…> */
  type: string;
  default?: string;
  noEcho: boolean;
  allowedValues?: string[];
  allowedPattern?: string;
  minLength?: number;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
  description?: string;
  constraintDescription?: string;
}

export interface ResourceDeclaration {
  logicalId: string;
  type: string;
  /** Raw (unevaluated) properties: intrinsics still inside. */
  properties: Record<string, unknown>;
  dependsOn: string[];
  condition?: string;
  deletionPolicy?: 'Delete' | 'Retain' | 'Snapshot' | 'RetainExceptOnCreate';
  updateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot';
  metadata?: Record<string, unknown>;
}

export interface OutputDeclaration {
  logicalId: string;
  /** Raw value. */
  value: unknown;
  description?: string;
  /** Raw Export.Name, if exported. */
  exportName?: unknown;
  condition?: string;
}

export interface Template {
  /** The original text, byte for byte (GetTemplate returns it). */
  body: string;
  format: 'json' | 'yaml';
  description?: string;
  parameters: Map<string, ParameterDeclaration>;
  mappings: Record<string, Record<string, Record<string, unknown>>>;
  /** Raw condition expressions. */
  conditions: Record<string, unknown>;
  resources: Map<string, ResourceDeclaration>;
  outputs: Map<string, OutputDeclaration>;
  transform?: string[];
}

/** What intrinsic functions can see while being evaluated. */
export interface EvaluationContext {
  accountId: string;
  region: string;
  stackName: string;
  stackId: string;
  /** Resolved parameter values: CommaDelimitedList / List<…> as string arrays, everything else strings. */
  parameters: ReadonlyMap<string, string | string[]>;
  /** Evaluated conditions. */
  conditions: ReadonlyMap<string, boolean>;
  /** A created resource's Ref value and attributes; undefined if it does not exist (yet). */
  resource(logicalId: string): { ref: string; attributes: Record<string, unknown> } | undefined;
  /** Fn::ImportValue: another stack's export, or undefined ("No export named X found."). */
  importValue(name: string): string | undefined;
  /** Fn::GetAZs. */
  availabilityZones(region: string): string[];
  /**
   * The template's Mappings, for Fn::FindInMap (added by the engine: resolveValue has no other way to see
   * them). Pass `template.mappings`; without it every Fn::FindInMap fails with "Unable to get mapping".
   */
  mappings?: Template['mappings'];
}

export interface GivenParameter {
  key: string;
  value?: string;
  usePreviousValue?: boolean;
}

export interface ResolvedParameters {
  /** Every declared parameter's value (given, previous or default). */
  values: Map<string, string | string[]>;
  /** Values as DescribeStacks shows them: NoEcho ones as `****`. */
  described: Array<{ key: string; value: string }>;
}

/** What ValidateTemplate returns. */
export interface TemplateSummary {
  description?: string;
  parameters: Array<{ key: string; defaultValue?: string; noEcho: boolean; description?: string }>;
  /** CAPABILITY_IAM / CAPABILITY_NAMED_IAM / CAPABILITY_AUTO_EXPAND needed by this template. */
  capabilities: string[];
  capabilitiesReason?: string;
  declaredTransforms: string[];
}

/**
 * The engine's functions (implemented in ./engine.ts and friends, exported from ./index.ts):
 *
 *   parseTemplate(body: string): Template
 *     JSON or YAML with short tags (!Ref, !Sub, !GetAtt a.b, !Join, !If, !Select, !Split, !FindInMap, !Base64,
 *     !ImportValue, !GetAZs, !Equals, !And, !Or, !Not, !Condition, !Cidr). YAML errors carry the line:
 *     "Template format error: YAML not well-formed. (line N, column M)". Structural errors as AWS words them
 *     ("Template format error: At least one Resources member must be defined.", unknown top-level section, …).
 *
 *   summarize(template, isKnownType: (type: string) => boolean): TemplateSummary
 *     "Template format error: Unrecognized resource types: [A, B]"; capabilities from IAM types.
 *
 *   resolveParameters(template, given: GivenParameter[], previous?: ReadonlyMap<string, string | string[]>): ResolvedParameters
 *     AWS's messages: "Parameters: [X] must have values", "Parameter 'X' must be one of AllowedValues",
 *     "Parameters: [X] do not exist in the template", "Parameter X failed to satisfy constraint: <ConstraintDescription or the pattern>",
 *     "Invalid input for parameter key X. Cannot specify usePreviousValue as true and non empty value for a parameter" …
 *
 *   evaluateConditions(template, context without resources): Map<string, boolean>
 *
 *   dependencyGraph(template, conditions): Map<string, Set<string>>   (logical id → what it waits for)
 *     From Ref / Fn::GetAtt / Fn::Sub / DependsOn of resources whose Condition holds; "Template format error:
 *     Unresolved resource dependencies [X] in the Resources block of the template"; "Circular dependency between resources: [A, B]".
 *
 *   resolveValue(raw: unknown, context: EvaluationContext): unknown
 *     Evaluates every intrinsic; AWS::NoValue removes the key/element; errors as AWS words them.
 */
export type TemplateEngineDocs = never;
