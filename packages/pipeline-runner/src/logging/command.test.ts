import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkCommand,
  escapeCommandData,
  escapeCommandProperty,
  formatCommand,
  parseLine,
  unescapeCommandValue,
  type LoggingCommand,
} from './command';

function command(line: string): LoggingCommand {
  const parsed = parseLine(line);
  assert.equal(parsed.kind, 'command', `${JSON.stringify(line)} should parse: ${JSON.stringify(parsed)}`);
  return (parsed as { command: LoggingCommand }).command;
}

function malformed(line: string): string {
  const parsed = parseLine(line);
  assert.equal(parsed.kind, 'malformed', `${JSON.stringify(line)} should be malformed`);
  return (parsed as { reason: string }).reason;
}

const AWKWARD = [
  ';',
  ']',
  '%',
  '%3B',
  '%AZP25',
  '%0D%0A',
  '%5D',
  'a;b]c%d',
  'line1\nline2',
  'cr\rlf\r\n',
  '%%;;]]',
  'x=y=z',
  'ünïcødé ✓ 😀',
  ' leading and trailing ',
  '##vso[task.complete result=Failed]',
  '%AZP253B',
];

test('formatCommand writes exactly what task-lib 5.x TaskCommand.toString writes', () => {
  // Expected strings captured from azure-pipelines-task-lib/taskcommand.js (5.281.0) for the same inputs.
  assert.equal(
    formatCommand('task', 'setvariable', { variable: 'a;b]c', issecret: 'true' }, 'x%y\r\nz;]'),
    '##vso[task.setvariable variable=a%3Bb%5Dc;issecret=true;]x%AZP25y%0D%0Az;]',
  );
  assert.equal(formatCommand('task', 'complete', { result: '' }, ''), '##vso[task.complete ]');
  assert.equal(
    formatCommand('task', 'complete', { result: 'Succeeded' }, 'done %3B literal'),
    '##vso[task.complete result=Succeeded;]done %AZP253B literal',
  );
  assert.equal(
    formatCommand('task', 'logissue', { type: 'error', sourcepath: '/a b/c.ts' }, 'ünïcødé ✓ 😀'),
    '##vso[task.logissue type=error;sourcepath=/a b/c.ts;]ünïcødé ✓ 😀',
  );
  assert.equal(formatCommand('task', 'debug', {}, 'x'), '##vso[task.debug]x');
});

test('escaping: properties escape % CR LF ] ; (percent first), data only % CR LF', () => {
  assert.equal(escapeCommandProperty('%;]\r\n'), '%AZP25%3B%5D%0D%0A');
  assert.equal(escapeCommandData('%;]\r\n'), '%AZP25;]%0D%0A');
  // A literal escape sequence survives because its % is escaped first.
  assert.equal(escapeCommandProperty('%3B'), '%AZP253B');
  assert.equal(unescapeCommandValue('%AZP253B'), '%3B');
  // Ordinal: lower-case escapes are not decoded.
  assert.equal(unescapeCommandValue('%3b%0a%5d'), '%3b%0a%5d');
});

test('parseLine is the inverse of formatCommand for awkward property values and data', () => {
  for (const value of AWKWARD) {
    const line = formatCommand('task', 'setvariable', { variable: 'v', value, other: value }, value);
    const parsed = command(line);
    assert.deepEqual(
      parsed,
      {
        area: 'task',
        event: 'setvariable',
        properties: { variable: 'v', value, other: value },
        data: value,
      },
      `round trip of ${JSON.stringify(value)} via ${JSON.stringify(line)}`,
    );
  }
});

test('empty values and data round-trip as absent property and empty data', () => {
  assert.deepEqual(command(formatCommand('task', 'complete', { result: 'Failed', done: '' }, '')), {
    area: 'task',
    event: 'complete',
    properties: { result: 'Failed' },
    data: '',
  });
  assert.deepEqual(command(formatCommand('task', 'complete', { result: '' }, '')).properties, {});
});

test('the ##vso[ prefix may appear anywhere in the line', () => {
  const parsed = command('2024-01-01T00:00:00Z some prefix ##vso[task.setvariable variable=x]value');
  assert.equal(parsed.event, 'setvariable');
  assert.equal(parsed.data, 'value');
  assert.deepEqual(parsed.properties, { variable: 'x' });
});

test('the header ends at the first ]; area, event and keys are case-insensitive (lower-cased)', () => {
  const parsed = command('##vso[TASK.SetVariable Variable=Name;IsOutput=true]data]with]brackets');
  assert.deepEqual(parsed, {
    area: 'task',
    event: 'setvariable',
    properties: { variable: 'Name', isoutput: 'true' },
    data: 'data]with]brackets',
  });
});

test('malformed: missing ], one-part and three-part names, and a bare ##vso keyword', () => {
  assert.match(malformed('##vso[task.setvariable variable=x'), /closing/);
  assert.match(malformed('##vso[setvariable variable=x]v'), /two parts/);
  assert.match(malformed('##vso[task.set.variable variable=x]v'), /two parts/);
  assert.match(malformed('##vso[]'), /two parts/);
  assert.match(malformed('##vso[ task.setvariable]'), /two parts/);
  assert.ok(malformed('echo ##vso task.complete'));
  // Empty parts are dropped like .NET's RemoveEmptyEntries.
  assert.equal(command('##vso[task..complete result=Succeeded]').event, 'complete');
});

test('properties: split on ;, then at the first =, empty pieces and empty values dropped', () => {
  assert.deepEqual(command('##vso[task.setvariable k=;variable=x]').properties, { variable: 'x' });
  assert.deepEqual(command('##vso[task.setvariable =v;variable=x]').properties, { variable: 'x' });
  assert.deepEqual(command('##vso[task.setvariable ;;variable=x;;]').properties, { variable: 'x' });
  assert.deepEqual(command('##vso[task.setvariable variable=a=b=c]').properties, { variable: 'a=b=c' });
  assert.deepEqual(command('##vso[task.setvariable novalue;variable=x]').properties, { variable: 'x' });
  // .NET Split('=', 2, RemoveEmptyEntries) skips the '=' run after the key.
  assert.deepEqual(command('##vso[task.setvariable variable==x]').properties, { variable: 'x' });
  // Keys are not trimmed: a space after ';' becomes part of the key, as in the agent.
  assert.deepEqual(command('##vso[task.setvariable variable=x; isoutput=true]').properties, {
    variable: 'x',
    ' isoutput': 'true',
  });
  // Later duplicates win (case-insensitively).
  assert.deepEqual(command('##vso[task.setvariable variable=a;VARIABLE=b]').properties, { variable: 'b' });
});

test('formatting commands at the start of a line; text otherwise', () => {
  assert.deepEqual(parseLine('##[group]Build things'), {
    kind: 'format',
    format: 'group',
    text: 'Build things',
  });
  assert.deepEqual(parseLine('##[endgroup]'), { kind: 'format', format: 'endgroup', text: '' });
  assert.deepEqual(parseLine('##[ERROR]boom'), { kind: 'format', format: 'error', text: 'boom' });
  for (const format of ['section', 'warning', 'debug', 'command'] as const) {
    assert.deepEqual(parseLine(`##[${format}]x`), { kind: 'format', format, text: 'x' });
  }
  assert.deepEqual(parseLine(' ##[group]indented'), { kind: 'text' });
  assert.deepEqual(parseLine('##[unknown]x'), { kind: 'text' });
  assert.deepEqual(parseLine('plain output'), { kind: 'text' });
  assert.deepEqual(parseLine(''), { kind: 'text' });
});

test('checkCommand: known commands pass; unknown area warns; unknown event in a known area errors', () => {
  assert.deepEqual(checkCommand(command('##vso[task.setvariable variable=x]1')), { ok: true });
  assert.deepEqual(checkCommand(command('##vso[build.addbuildtag]tag')), { ok: true });
  assert.deepEqual(checkCommand(command('##vso[artifact.upload artifactname=drop]/tmp/x')), { ok: true });
  assert.deepEqual(checkCommand(command('##vso[task.issue type=warning]x')), { ok: true });

  const area = checkCommand(command('##vso[nosuch.thing]x'));
  assert.equal(area.ok, false);
  assert.equal(!area.ok && area.severity, 'warning');
  assert.match(!area.ok ? area.message : '', /nosuch/);

  const event = checkCommand(command('##vso[task.nosuchevent]x'));
  assert.equal(!event.ok && event.severity, 'error');
  assert.match(!event.ok ? event.message : '', /nosuchevent/);
});

test('checkCommand validates what the agent validates', () => {
  const error = (line: string) => {
    const check = checkCommand(command(line));
    assert.equal(check.ok, false, line);
    assert.equal(!check.ok && check.severity, 'error', line);
    return !check.ok ? check.message : '';
  };
  assert.match(error('##vso[task.setvariable issecret=true]x'), /variable/);
  assert.match(error('##vso[task.complete result=Cancelled]'), /Cancelled/);
  assert.match(error('##vso[task.complete result=succeeded]'), /case-sensitive/);
  assert.match(error('##vso[task.complete]'), /result/);
  assert.match(error('##vso[task.logissue type=info]x'), /info/);
  assert.match(error('##vso[task.prependpath]'), /directory/);
  assert.match(error('##vso[task.addattachment type=t]/tmp/f'), /name/);
  assert.match(error('##vso[task.addattachment type=a/b;name=n]/tmp/f'), /type/);
  assert.match(error('##vso[build.updatebuildnumber]'), /build number/);
  assert.match(error('##vso[task.setendpoint id=not-a-guid;field=url]https://x'), /GUID/);
  assert.match(error('##vso[task.setvariable variable=s;issecret=true]a%0Ab'), /single line/);

  for (const result of ['Succeeded', 'SucceededWithIssues', 'Failed', 'Canceled', 'Skipped', 'Abandoned']) {
    assert.deepEqual(checkCommand(command(`##vso[task.complete result=${result}]`)), { ok: true });
  }
  // The agent compares the issue type ignoring case.
  assert.deepEqual(checkCommand(command('##vso[task.logissue type=Error]x')), { ok: true });
  // A missing type only makes the agent drop the issue with a warning.
  const noType = checkCommand(command('##vso[task.logissue]x'));
  assert.equal(!noType.ok && noType.severity, 'warning');
  // The knob lets multi-line secrets through.
  const multiline = command('##vso[task.setvariable variable=s;issecret=true]a%0Ab');
  assert.deepEqual(checkCommand(multiline, { allowMultilineSecret: true }), { ok: true });
});
