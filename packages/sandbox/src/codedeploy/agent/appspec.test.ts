import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppSpecError, parseAppSpec } from './appspec';

const minimal = 'version: 0.0\nos: linux\n';

function parseError(text: string): AppSpecError {
  try {
    parseAppSpec(text);
  } catch (error) {
    assert.ok(error instanceof AppSpecError, `expected AppSpecError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the appspec to be rejected');
}

test('a full appspec parses into typed sections with the agent defaults', () => {
  const spec = parseAppSpec(
    [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: /',
      '    destination: /var/www/html',
      'permissions:',
      '  - object: /var/www/html',
      '    pattern: "*.sh"',
      '    except: [skip.sh]',
      '    owner: root',
      '    mode: 755',
      '    type: [file]',
      'hooks:',
      '  ApplicationStart:',
      '    - location: scripts/start.sh',
      '      timeout: 300',
      '      runas: ec2-user',
      '  ValidateService:',
      '    - location: scripts/check.sh',
      'file_exists_behavior: OVERWRITE',
      '',
    ].join('\n'),
  );
  assert.deepEqual(spec.files, [{ source: '/', destination: '/var/www/html' }]);
  assert.deepEqual(spec.permissions, [
    {
      object: '/var/www/html',
      pattern: '*.sh',
      except: ['skip.sh'],
      type: ['file'],
      owner: 'root',
      mode: 0o755,
    },
  ]);
  assert.deepEqual(spec.hooks.ApplicationStart, [
    { location: 'scripts/start.sh', timeout: 300, runas: 'ec2-user' },
  ]);
  assert.deepEqual(spec.hooks.ValidateService, [{ location: 'scripts/check.sh', timeout: 3600 }]);
  assert.equal(spec.fileExistsBehavior, 'OVERWRITE');
});

test('a quoted version fails with the agent message, naming the line', () => {
  const error = parseError('os: linux\nversion: "0.0"\n');
  assert.equal(
    error.message,
    'The deployment failed because an invalid version value (0.0) was entered in the application specification file. Make sure your AppSpec file specifies "0.0" as the version, and then try again. (appspec.yml, line 2)',
  );
  assert.equal(error.line, 2);
});

test('an empty appspec, a bad os and windows are refused', () => {
  assert.match(parseError('').message, /application specification file was empty/);
  assert.match(parseError('version: 0.0\nos: solaris\n').message, /unsupported operating system \(solaris\)/);
  assert.match(parseError('version: 0.0\nos: windows\n').message, /Windows instances are not emulated/);
});

test('unknown hooks are rejected with their line', () => {
  const error = parseError(`${minimal}hooks:\n  AfterInstal:\n    - location: x.sh\n`);
  assert.match(error.message, /unknown lifecycle event \(AfterInstal\)/);
  assert.match(error.message, /\(appspec\.yml, line 4\)$/);
  // Not-scriptable events are not hooks either.
  assert.match(parseError(`${minimal}hooks:\n  Install:\n    - location: x.sh\n`).message, /\(Install\)/);
});

test('script timeouts: positive integers up to one hour', () => {
  assert.match(
    parseError(`${minimal}hooks:\n  AfterInstall:\n    - location: x.sh\n      timeout: 3601\n`).message,
    /timeout of 3601 seconds.*at most 3600 seconds.*line 6/,
  );
  assert.equal(
    parseError(`${minimal}hooks:\n  AfterInstall:\n    - location: x.sh\n      timeout: 0\n`).message,
    'Timeout needs to be an integer greater than 0 (appspec.yml, line 6)',
  );
  assert.match(
    parseError(`${minimal}hooks:\n  AfterInstall:\n    - timeout: 5\n`).message,
    /specifies a script with no location value/,
  );
});

test('files need source and destination; modes are octal digits; file_exists_behavior is checked', () => {
  assert.match(parseError(`${minimal}files:\n  - destination: /x\n`).message, /no source file/);
  assert.match(parseError(`${minimal}files:\n  - source: a\n`).message, /only a source file \(a\)/);
  assert.match(
    parseError(`${minimal}permissions:\n  - object: /x\n    mode: 789\n`).message,
    /invalid character \(8\)/,
  );
  assert.match(parseError(`${minimal}permissions:\n  - mode: 644\n`).message, /has no object value/);
  assert.match(
    parseError(`${minimal}file_exists_behavior: REPLACE\n`).message,
    /invalid option was specified for fileExistsBehavior: REPLACE/,
  );
  // YAML 1.1 as in Ruby: 0644 is octal 420, whose digits become the mode, as the agent does.
  const spec = parseAppSpec(`${minimal}permissions:\n  - object: /x\n    mode: 0644\n`);
  assert.equal(spec.permissions[0]?.mode, 0o420);
});

test('invalid YAML names the line and the source name', () => {
  const error = (() => {
    try {
      parseAppSpec('version: 0.0\nos: linux\nhooks: [\n', 'my/appspec.yml');
    } catch (caught) {
      return caught as AppSpecError;
    }
    return assert.fail('expected a YAML error');
  })();
  assert.match(error.message, /my\/appspec\.yml is not valid YAML/);
});
