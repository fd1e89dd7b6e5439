/**
 * The agent's `##vso[area.event k=v;…]data` parser (Command.cs + CommandStringConvertor.cs), task-lib's
 * encoder (taskcommand.ts) and the validation the agent's command extensions do before acting on a command.
 * Pure functions: the executor decides what a command does.
 */

export interface LoggingCommand {
  /** Lower-cased. */
  area: string;
  /** Lower-cased. */
  event: string;
  /** Keys lower-cased (the agent's dictionary is case-insensitive), values unescaped. */
  properties: Record<string, string>;
  /** Unescaped. */
  data: string;
}

export type FormatKind = 'group' | 'endgroup' | 'section' | 'warning' | 'error' | 'debug' | 'command';

export type ParsedLine =
  | { kind: 'command'; command: LoggingCommand }
  /**
   * A line containing `##vso` that the agent cannot parse. The agent logs a warning and still prints the line
   * as ordinary output.
   */
  | { kind: 'malformed'; reason: string }
  /** `##[group]Title` etc. at the start of the line: only the log viewer acts on these. */
  | { kind: 'format'; format: FormatKind; text: string }
  | { kind: 'text' };

const PREFIX = '##vso[';
const FORMAT_LINE = /^##\[(group|endgroup|section|warning|error|debug|command)\]/i;

export function parseLine(line: string): ParsedLine {
  const prefixIndex = line.indexOf(PREFIX);
  if (prefixIndex >= 0) return parseCommand(line, prefixIndex);
  // The agent warns about any line mentioning the keyword that did not parse, not only `##vso[` ones.
  if (line.includes('##vso')) {
    return { kind: 'malformed', reason: `'##vso' appears without a '##vso[area.event]' command header` };
  }
  const format = FORMAT_LINE.exec(line);
  if (format) {
    return {
      kind: 'format',
      format: format[1]!.toLowerCase() as FormatKind,
      text: line.slice(format[0].length),
    };
  }
  return { kind: 'text' };
}

function parseCommand(line: string, prefixIndex: number): ParsedLine {
  const start = prefixIndex + PREFIX.length;
  const end = line.indexOf(']', start);
  if (end < 0) return { kind: 'malformed', reason: `the '##vso[' header has no closing ']'` };
  const header = line.slice(start, end);
  const space = header.indexOf(' ');
  const name = space < 0 ? header : header.slice(0, space);
  // Split(…, RemoveEmptyEntries): `task..complete` still names two parts.
  const parts = name.split('.').filter((part) => part.length > 0);
  if (parts.length !== 2) {
    return {
      kind: 'malformed',
      reason: `the command name '${name}' must have exactly two parts, 'area.event'`,
    };
  }
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const piece of header.slice(space + 1).split(';')) {
      if (piece.length === 0) continue;
      const pair = splitPair(piece);
      // Keys are not trimmed by the agent: `; isOutput=true` names the key ' isoutput'.
      if (pair) properties[pair[0].toLowerCase()] = unescapeCommandValue(pair[1]);
    }
  }
  return {
    kind: 'command',
    command: {
      area: parts[0]!.toLowerCase(),
      event: parts[1]!.toLowerCase(),
      properties,
      data: unescapeCommandValue(line.slice(end + 1)),
    },
  };
}

/**
 * .NET's `piece.Split('=', 2, RemoveEmptyEntries)`: the key is the first non-empty run before an `=`, the value
 * everything after it once further `=` are skipped (`k==v` → `v`). Fewer than two parts → no property.
 */
function splitPair(piece: string): [string, string] | undefined {
  let cursor = 0;
  let key: string | undefined;
  for (let eq = piece.indexOf('='); eq >= 0; eq = piece.indexOf('=', cursor)) {
    const segment = piece.slice(cursor, eq);
    cursor = eq + 1;
    if (segment.length > 0) {
      key = segment;
      break;
    }
  }
  if (key === undefined) return undefined;
  while (piece[cursor] === '=') cursor++;
  const value = piece.slice(cursor);
  return value.length > 0 ? [key, value] : undefined;
}

/** CommandStringConvertor.Unescape with DECODE_PERCENTS=true (the default); ordinal, so `%3b` stays. */
export function unescapeCommandValue(value: string): string {
  return value
    .replaceAll('%3B', ';')
    .replaceAll('%0D', '\r')
    .replaceAll('%0A', '\n')
    .replaceAll('%5D', ']')
    .replaceAll('%AZP25', '%');
}

/** task-lib's `escape` for property values. `%` goes first so the escapes it adds are not escaped again. */
export function escapeCommandProperty(value: string): string {
  return escapeCommandData(value).replaceAll(']', '%5D').replaceAll(';', '%3B');
}

/** task-lib's `escapedata` for the message part. */
export function escapeCommandData(value: string): string {
  return value.replaceAll('%', '%AZP25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/**
 * TaskCommand.toString: empty property values are left out, yet a property map that is non-empty still adds
 * the space after the name (`##vso[task.complete ]`), exactly as task-lib writes it.
 */
export function formatCommand(
  area: string,
  event: string,
  properties: Record<string, string>,
  data: string,
): string {
  let text = `${PREFIX}${area}.${event}`;
  const keys = Object.keys(properties);
  if (keys.length > 0) {
    text += ' ';
    for (const key of keys) {
      const value = properties[key];
      if (value) text += `${key}=${escapeCommandProperty(value)};`;
    }
  }
  return `${text}]${escapeCommandData(data)}`;
}

export type CommandCheck = { ok: true } | { ok: false; severity: 'warning' | 'error'; message: string };

export interface CommandCheckOptions {
  /** SYSTEM_UNSAFEALLOWMULTILINESECRET: the agent rejects a multi-line `issecret=true` value unless set. */
  allowMultilineSecret?: boolean;
}

type Validator = (command: LoggingCommand, options: CommandCheckOptions) => string | CommandCheck | undefined;

const OK: CommandCheck = { ok: true };
const TASK_RESULTS = ['Succeeded', 'SucceededWithIssues', 'Failed', 'Canceled', 'Skipped', 'Abandoned'];
const GUID = /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[)}]?$/i;
const EMPTY_GUID = /^[{(]?0{8}-?0{4}-?0{4}-?0{4}-?0{12}[)}]?$/;

const requireData =
  (what: string): Validator =>
  (command) =>
    command.data ? undefined : `${what} is required as the command data`;

const requireProperty =
  (...names: string[]): Validator =>
  (command) => {
    const missing = names.find((name) => !command.properties[name]);
    return missing === undefined ? undefined : `the '${missing}' property is required`;
  };

const all =
  (...validators: Validator[]): Validator =>
  (command, options) => {
    for (const validate of validators) {
      const problem = validate(command, options);
      if (problem !== undefined) return problem;
    }
    return undefined;
  };

// Path.GetInvalidFileNameChars() on Linux.
const fileNameSafe =
  (...names: string[]): Validator =>
  (command) => {
    const bad = names.find((name) => /[\0/]/.test(command.properties[name] ?? ''));
    return bad === undefined
      ? undefined
      : `the '${bad}' property contains a character not allowed in a file name`;
  };

// What each agent command throws on before doing anything (an exception fails the step); file existence and
// anything needing job state is the executor's to check.
const KNOWN: Record<string, Record<string, Validator>> = {
  task: {
    setvariable: (command, options) => {
      if (!command.properties['variable']) return `the 'variable' property is required`;
      if (
        !options.allowMultilineSecret &&
        parseBoolean(command.properties['issecret']) &&
        command.data.includes('\n')
      ) {
        return 'a secret variable value must be a single line (set SYSTEM_UNSAFEALLOWMULTILINESECRET=true to allow it)';
      }
      return undefined;
    },
    setsecret: () => undefined,
    logissue: checkIssue,
    issue: checkIssue,
    complete: (command) => {
      const result = command.properties['result'];
      if (!result) return `the 'result' property is required (one of ${TASK_RESULTS.join(', ')})`;
      return TASK_RESULTS.includes(result)
        ? undefined
        : `result '${result}' is not one of ${TASK_RESULTS.join(', ')} (the match is case-sensitive)`;
    },
    setprogress: () => undefined,
    prependpath: requireData('a directory'),
    uploadsummary: requireData('the summary file path'),
    uploadfile: requireData('the file path'),
    addattachment: all(
      requireProperty('type', 'name'),
      fileNameSafe('type', 'name'),
      requireData('the file path'),
    ),
    debug: () => undefined,
    logdetail: (command) => {
      const id = command.properties['id'];
      return id && GUID.test(id) && !EMPTY_GUID.test(id)
        ? undefined
        : `the 'id' property must be a non-empty GUID`;
    },
    settaskvariable: requireProperty('variable'),
    setendpoint: (command) => {
      if (!command.data) return 'the new value is required as the command data';
      const { field, id, key } = command.properties;
      if (!field) return `the 'field' property is required (authParameter, dataParameter or url)`;
      if (!id) return `the 'id' property is required`;
      if (!GUID.test(id)) return `the 'id' property '${id}' is not a GUID`;
      const kind = field.toLowerCase();
      if (kind === 'url')
        return URL.canParse(command.data) ? undefined : `'${command.data}' is not an absolute URL`;
      if (kind === 'authparameter' || kind === 'dataparameter') {
        return key ? undefined : `the 'key' property is required for field '${field}'`;
      }
      return `field '${field}' is not one of authParameter, dataParameter, url`;
    },
  },
  build: {
    updatebuildnumber: requireData('the build number'),
    addbuildtag: requireData('the tag'),
    uploadlog: requireData('the log file path'),
    // Deprecated, but the agent still accepts it.
    uploadsummary: requireData('the summary file path'),
  },
  artifact: {
    upload: all(requireProperty('artifactname'), requireData('the path to upload')),
    associate: requireProperty('artifactname'),
  },
};

function checkIssue(command: LoggingCommand): CommandCheck | string | undefined {
  const type = command.properties['type'];
  // A missing type only makes the agent warn and drop the issue; a wrong one throws.
  if (type === undefined) {
    return {
      ok: false,
      severity: 'warning',
      message: `${label(command)}: no 'type' property, issue ignored`,
    };
  }
  const lower = type.toLowerCase();
  return lower === 'error' || lower === 'warning'
    ? undefined
    : `issue type '${type}' is not error or warning`;
}

/** .NET Boolean.TryParse: `true`/`false` in any case, surrounding white space allowed. */
function parseBoolean(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

function label(command: LoggingCommand): string {
  return `##vso[${command.area}.${command.event}]`;
}

/**
 * How the agent treats a parsed command before running it: unknown area → warning (ignored), unknown event in a
 * known area or a command the agent would throw on → error (the step fails).
 */
export function checkCommand(command: LoggingCommand, options: CommandCheckOptions = {}): CommandCheck {
  const events = KNOWN[command.area];
  if (!events) {
    return {
      ok: false,
      severity: 'warning',
      message: `${label(command)} is not a recognized command: unknown area '${command.area}' (known: ${Object.keys(KNOWN).join(', ')}); the command was ignored`,
    };
  }
  const validate = events[command.event];
  if (!validate) {
    return {
      ok: false,
      severity: 'error',
      message: `${label(command)} is not a recognized command: '${command.area}' has no event '${command.event}' (known: ${Object.keys(events).join(', ')})`,
    };
  }
  const problem = validate(command, options);
  if (problem === undefined) return OK;
  if (typeof problem !== 'string') return problem;
  return { ok: false, severity: 'error', message: `${label(command)} failed: ${problem}` };
}
