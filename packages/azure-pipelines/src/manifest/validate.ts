// The rules of task-lib's tasks.schema.json and tfx's task validation that matter to an agent or to the UI,
// plus our own contract (agent contract §1.1 and §7 items 1–2). Self-contained (no imports) because the plain
// Node build script compiles and loads this file on its own.

/** The endpoint type our tasks' credentials input must use (the `name` of vss-extension.json's endpoint type). */
export const KEYLESS_ENDPOINT_TYPE = 'KeylessAWS';

/** Every task runs on exactly these handlers, both pointing at the same bundle (contract §6, §7.1). */
export const REQUIRED_HANDLERS = ['Node20_1', 'Node24'] as const;

const TOP_LEVEL_KEYS = new Set([
  '$schema',
  'id',
  'name',
  'friendlyName',
  'description',
  'helpUrl',
  'helpMarkDown',
  'author',
  'preview',
  'deprecated',
  'deprecationMessage',
  'removalDate',
  'showEnvironmentVariables',
  'runsOn',
  'visibility',
  'category',
  'groups',
  'demands',
  'minimumAgentVersion',
  'version',
  'instanceNameFormat',
  'releaseNotes',
  'inputs',
  'dataSourceBindings',
  'sourceDefinitions',
  'prejobexecution',
  'execution',
  'postjobexecution',
  'messages',
  'outputVariables',
  'restrictions',
]);

const INPUT_KEYS = new Set([
  'name',
  'label',
  'type',
  'defaultValue',
  'required',
  'helpMarkDown',
  'groupName',
  'visibleRule',
  'properties',
  'options',
  'aliases',
  'validation',
]);

const CATEGORIES = new Set([
  'Build',
  'Utility',
  'Test',
  'Package',
  'Deploy',
  'Azure Repos',
  'Azure Boards',
  'Azure Pipelines',
  'Azure Test Plans',
  'Azure Artifacts',
]);

const INPUT_TYPES = new Set([
  'string',
  'boolean',
  'multiLine',
  'pickList',
  'radio',
  'filePath',
  'secureFile',
  'int',
  'identities',
  'querycontrol',
]);

const GUID = /^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const TASK_NAME = /^[A-Za-z0-9-]+$/;
const INPUT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
// The agent's variable-name rule, not the old schema's alphanumeric pattern: outputs such as `AWS.Region`
// are legal variables. The reserved prefixes are rejected because the agent never lets a task set them.
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const RESERVED_VARIABLE_PREFIX = /^(endpoint|input|secret|path|securefile)[._]/i;
const AGENT_VERSION = /^\d+\.\d+(\.\d+)?$/;
// visibleRule clauses look like `name = value`, `name != value`, `name NotEndsWith value`, joined by && or ||.
const RULE_OPERATOR =
  /^\s*([A-Za-z][A-Za-z0-9]*)\s*(==|=|!=|<=|>=|<|>|NotContains|Contains|NotEndsWith|EndsWith|NotStartsWith|StartsWith)\s*(.*)$/;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * Checks a parsed task.json and returns every problem found, each prefixed with `file` (empty when valid).
 * Collects all problems rather than stopping at the first, so one build run shows everything to fix.
 */
export function validateTaskManifest(json: unknown, file: string): string[] {
  const problems: string[] = [];
  const problem = (where: string, message: string) => problems.push(`${file}: ${where}: ${message}`);

  if (!isObject(json)) {
    problem('(root)', 'task.json must be a JSON object');
    return problems;
  }
  for (const key of Object.keys(json)) {
    if (!TOP_LEVEL_KEYS.has(key)) problem(key, 'unknown top-level key (tasks.schema.json allows no others)');
  }
  checkIdentity(json, problem);
  checkVersion(json.version, problem);
  const groups = checkGroups(json.groups, problem);
  checkInputs(json.inputs, groups, problem);
  for (const key of ['execution', 'prejobexecution', 'postjobexecution'] as const) {
    if (key === 'execution' || json[key] !== undefined) checkHandlers(key, json[key], problem);
  }
  checkOutputVariables(json.outputVariables, problem);
  checkRestrictions(json.restrictions, problem);
  return problems;
}

type Report = (where: string, message: string) => void;

function checkIdentity(json: Json, problem: Report): void {
  if (!isString(json.id) || !GUID.test(json.id)) problem('id', 'must be a GUID');
  if (!isString(json.name) || !TASK_NAME.test(json.name))
    problem('name', 'must match ^[A-Za-z0-9-]+$ (letters, digits and hyphens)');
  if (!isString(json.friendlyName) || json.friendlyName.length < 1 || json.friendlyName.length > 40)
    problem('friendlyName', 'is required and must be 1-40 characters (tfx rejects longer ones)');
  if (!isString(json.category) || !CATEGORIES.has(json.category))
    problem('category', `must be one of: ${[...CATEGORIES].join(', ')}`);
  if (!isString(json.instanceNameFormat) || json.instanceNameFormat.trim() === '')
    problem('instanceNameFormat', 'is required (tfx rejects a task without it)');
  if (json.minimumAgentVersion !== undefined) {
    if (!isString(json.minimumAgentVersion) || !AGENT_VERSION.test(json.minimumAgentVersion))
      problem('minimumAgentVersion', 'must look like 4.248.0');
  }
  if (json.demands !== undefined && (!Array.isArray(json.demands) || !json.demands.every(isString)))
    problem('demands', 'must be an array of strings');
  for (const key of ['description', 'helpMarkDown', 'helpUrl', 'author', 'releaseNotes'] as const) {
    if (json[key] !== undefined && !isString(json[key])) problem(key, 'must be a string');
  }
}

function checkVersion(version: unknown, problem: Report): void {
  if (!isObject(version)) {
    problem('version', 'must be an object {Major, Minor, Patch}');
    return;
  }
  for (const key of Object.keys(version)) {
    if (!['Major', 'Minor', 'Patch'].includes(key)) problem(`version.${key}`, 'unknown key');
  }
  for (const key of ['Major', 'Minor', 'Patch'] as const) {
    const part = version[key];
    if (typeof part !== 'number' || !Number.isInteger(part) || part < 0)
      problem(`version.${key}`, 'must be a non-negative integer');
  }
}

function checkGroups(groups: unknown, problem: Report): Set<string> {
  const names = new Set<string>();
  if (groups === undefined) return names;
  if (!Array.isArray(groups)) {
    problem('groups', 'must be an array');
    return names;
  }
  groups.forEach((group, index) => {
    const where = `groups[${index}]`;
    if (!isObject(group) || !isString(group.name) || !isString(group.displayName)) {
      problem(where, 'needs a string name and displayName');
      return;
    }
    for (const key of Object.keys(group)) {
      if (!['name', 'displayName', 'isExpanded', 'visibleRule'].includes(key))
        problem(`${where}.${key}`, 'unknown key');
    }
    if (names.has(group.name)) problem(where, `duplicate group name "${group.name}"`);
    names.add(group.name);
  });
  return names;
}

function checkInputs(inputs: unknown, groups: Set<string>, problem: Report): void {
  if (inputs === undefined) return;
  if (!Array.isArray(inputs)) {
    problem('inputs', 'must be an array');
    return;
  }
  // Names and aliases share one namespace, case-insensitively: the agent passes each as INPUT_<UPPERCASE>.
  const seen = new Map<string, string>();
  const declared = new Set<string>();
  for (const input of inputs) {
    if (isObject(input) && isString(input.name)) declared.add(input.name);
  }
  inputs.forEach((input, index) => {
    const label = isObject(input) && isString(input.name) ? ` (${input.name})` : '';
    const where = `inputs[${index}]${label}`;
    if (!isObject(input)) {
      problem(where, 'must be an object');
      return;
    }
    for (const key of Object.keys(input)) {
      if (!INPUT_KEYS.has(key)) problem(`${where}.${key}`, 'unknown input key');
    }
    for (const key of ['name', 'label', 'type'] as const) {
      if (!isString(input[key])) problem(where, `${key} is required and must be a string`);
    }
    const names = [input.name, ...(Array.isArray(input.aliases) ? input.aliases : [])];
    if (input.aliases !== undefined && !Array.isArray(input.aliases))
      problem(where, 'aliases must be an array');
    for (const name of names) {
      if (!isString(name)) continue;
      if (!INPUT_NAME.test(name)) problem(where, `"${name}" must match ^[A-Za-z][A-Za-z0-9]*$`);
      const other = seen.get(name.toUpperCase());
      if (other !== undefined) problem(where, `"${name}" is already used by input ${other}`);
      seen.set(name.toUpperCase(), String(input.name));
    }
    checkInputType(input, where, problem);
    if (input.required !== undefined && typeof input.required !== 'boolean')
      problem(where, 'required must be true or false (a JSON boolean)');
    if (input.helpMarkDown !== undefined && !isString(input.helpMarkDown))
      problem(where, 'helpMarkDown must be a string');
    if (input.groupName !== undefined && !(isString(input.groupName) && groups.has(input.groupName)))
      problem(where, `groupName "${String(input.groupName)}" is not a declared group`);
    if (input.visibleRule !== undefined)
      checkVisibleRule(input.visibleRule, String(input.name), declared, where, problem);
  });
}

function checkInputType(input: Json, where: string, problem: Report): void {
  const type = input.type;
  if (!isString(type)) return;
  if (type.startsWith('connectedService:')) {
    if (type !== `connectedService:${KEYLESS_ENDPOINT_TYPE}`)
      problem(where, `type "${type}" must be connectedService:${KEYLESS_ENDPOINT_TYPE} (our endpoint type)`);
  } else if (!INPUT_TYPES.has(type)) {
    problem(where, `type "${type}" must be one of: ${[...INPUT_TYPES].join(', ')}, connectedService:<type>`);
  }
  const properties = input.properties;
  if (properties !== undefined && !isObject(properties)) problem(where, 'properties must be an object');
  const editable = isObject(properties) ? properties.EditableOptions : undefined;
  if (editable !== undefined && editable !== 'True' && editable !== 'False')
    problem(where, 'properties.EditableOptions must be "True" or "False"');

  const value = input.defaultValue;
  if (value !== undefined && !isString(value))
    problem(where, 'defaultValue must be a string (the agent hands every input over as text)');
  if (type === 'boolean' && value !== undefined && value !== 'true' && value !== 'false')
    problem(where, `boolean defaultValue must be "true" or "false", not ${JSON.stringify(value)}`);

  if (type === 'pickList' || type === 'radio') {
    const options = input.options;
    if (options !== undefined && !isObject(options)) {
      problem(where, 'options must be an object of value → label');
      return;
    }
    const values = Object.keys(options ?? {});
    if (type === 'radio' && values.length === 0) problem(where, 'a radio input needs options');
    if (type === 'pickList' && values.length === 0 && editable !== 'True')
      problem(where, 'a pickList needs options unless properties.EditableOptions is "True"');
    if (isString(value) && value !== '' && editable !== 'True' && !values.includes(value))
      problem(where, `defaultValue "${value}" is not one of its options (${values.join(', ')})`);
  } else if (input.options !== undefined) {
    problem(where, `options only apply to pickList and radio inputs, not ${type}`);
  }
}

function checkVisibleRule(
  rule: unknown,
  self: string,
  declared: Set<string>,
  where: string,
  problem: Report,
): void {
  if (!isString(rule) || rule.trim() === '') {
    problem(where, 'visibleRule must be a non-empty string');
    return;
  }
  for (const clause of rule.split(/&&|\|\|/)) {
    const match = RULE_OPERATOR.exec(clause);
    if (!match) {
      problem(where, `visibleRule clause "${clause.trim()}" is not "<input> <operator> <value>"`);
      continue;
    }
    const name = match[1] ?? '';
    if (name === self) problem(where, `visibleRule refers to the input itself`);
    else if (!declared.has(name)) problem(where, `visibleRule refers to "${name}", which is not an input`);
  }
}

function checkHandlers(key: string, execution: unknown, problem: Report): void {
  const expected = REQUIRED_HANDLERS.join(' + ');
  if (!isObject(execution)) {
    problem(key, `must be an object with exactly ${expected}`);
    return;
  }
  const handlers = Object.keys(execution);
  const missing = REQUIRED_HANDLERS.filter((handler) => !handlers.includes(handler));
  const extra = handlers.filter((handler) => !(REQUIRED_HANDLERS as readonly string[]).includes(handler));
  if (missing.length > 0 || extra.length > 0) {
    problem(
      key,
      `must declare exactly ${expected}` +
        (missing.length > 0 ? `; missing ${missing.join(', ')}` : '') +
        (extra.length > 0 ? `; remove ${extra.join(', ')}` : ''),
    );
  }
  const targets = new Set<string>();
  for (const handler of handlers) {
    const body = execution[handler];
    if (!isObject(body) || !isString(body.target) || body.target === '') {
      problem(`${key}.${handler}`, 'needs a target file');
      continue;
    }
    targets.add(body.target);
  }
  if (targets.size > 1)
    problem(key, `all handlers must point at the same target (${[...targets].join(', ')})`);
}

function checkOutputVariables(outputs: unknown, problem: Report): void {
  if (outputs === undefined) return;
  if (!Array.isArray(outputs)) {
    problem('outputVariables', 'must be an array of {name, description}');
    return;
  }
  const seen = new Set<string>();
  outputs.forEach((output, index) => {
    const where = `outputVariables[${index}]`;
    if (!isObject(output) || !isString(output.name)) {
      problem(where, 'needs a string name');
      return;
    }
    if (!VARIABLE_NAME.test(output.name) || RESERVED_VARIABLE_PREFIX.test(output.name))
      problem(where, `"${output.name}" is not a variable name a task may set (letters, digits, . and _)`);
    if (seen.has(output.name.toLowerCase())) problem(where, `duplicate output "${output.name}"`);
    seen.add(output.name.toLowerCase());
    if (output.description !== undefined && !isString(output.description))
      problem(where, 'description must be a string');
  });
}

function checkRestrictions(restrictions: unknown, problem: Report): void {
  if (restrictions === undefined) return;
  if (!isObject(restrictions)) {
    problem('restrictions', 'must be an object');
    return;
  }
  const commands = restrictions.commands;
  if (
    commands !== undefined &&
    !(isObject(commands) && ['any', 'restricted'].includes(String(commands.mode)))
  )
    problem('restrictions.commands', 'mode must be "any" or "restricted"');
  const settable = restrictions.settableVariables;
  if (
    settable !== undefined &&
    !(isObject(settable) && Array.isArray(settable.allowed) && settable.allowed.every(isString))
  )
    problem('restrictions.settableVariables', 'allowed must be an array of variable-name globs');
}
