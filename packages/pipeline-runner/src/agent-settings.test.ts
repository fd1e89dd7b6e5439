import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentSettingsError,
  defaultAgentSettings,
  loadAgentSettings,
  parseAgentSettings,
} from './agent-settings';

const yaml = `
collectionUri: http://127.0.0.1:4566/contoso
teamProject: demo
teamProjectId: 11111111-2222-3333-4444-555555555555
accessToken: abc
agentName: laptop
environment:
  AWS_ENDPOINT_URL: http://127.0.0.1:4566
variableGroups:
  shared:
    region: eu-west-1
    retries: 3
serviceConnections:
  - name: aws-sandbox
    id: 0B0E1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B
    type: KeylessAWS
    url: https://aws.amazon.com/
    scheme: UsernamePassword
    parameters:
      useOIDC: true
      assumeRoleArn: arn:aws:iam::000000000000:role/deploy
    data:
      region: eu-west-1
`;

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseAgentSettings(text, 'agent.yml'),
    (error: unknown) => error instanceof AgentSettingsError && pattern.test(error.message) && !!error.fix,
  );
}

test('parses YAML settings, normalising the collection URI and stringifying scalars', () => {
  const settings = parseAgentSettings(yaml, 'agent.yml');
  assert.equal(settings.collectionUri, 'http://127.0.0.1:4566/contoso/');
  assert.equal(settings.agentName, 'laptop');
  assert.deepEqual(settings.variableGroups, { shared: { region: 'eu-west-1', retries: '3' } });
  assert.deepEqual(settings.environment, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
  assert.equal(settings.serviceConnections.length, 1);
  assert.deepEqual(settings.serviceConnections[0]!.parameters, {
    useOIDC: 'true',
    assumeRoleArn: 'arn:aws:iam::000000000000:role/deploy',
  });
  assert.deepEqual(settings.serviceConnections[0]!.data, { region: 'eu-west-1' });
});

test('parses JSON and generates an access token when none is given', () => {
  const settings = parseAgentSettings(
    JSON.stringify({
      collectionUri: 'https://x.test/org/',
      teamProject: 'p',
      teamProjectId: '11111111-2222-3333-4444-555555555555',
    }),
    'agent.json',
  );
  assert.equal(settings.collectionUri, 'https://x.test/org/');
  assert.ok(settings.accessToken.length >= 20);
  assert.deepEqual(settings.serviceConnections, []);
});

test('unknown keys are errors naming their path', () => {
  rejects(`${yaml}\nbogus: 1\n`, /agent\.yml: bogus is not a known setting/);
  rejects(
    yaml.replace('    scheme: UsernamePassword', '    scheme: UsernamePassword\n    secret: x'),
    /serviceConnections\[0\]\.secret/,
  );
});

test('missing required settings are named', () => {
  rejects(yaml.replace('teamProject: demo\n', ''), /teamProject is required/);
  rejects(yaml.replace('    type: KeylessAWS\n', ''), /serviceConnections\[0\]\.type is required/);
});

test('ids must be GUIDs and names/ids unique', () => {
  rejects(yaml.replace('11111111-2222-3333-4444-555555555555', 'project-1'), /teamProjectId is not a GUID/);
  rejects(
    yaml.replace('0B0E1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B', 'conn-1'),
    /serviceConnections\[0\]\.id is not a GUID/,
  );
  const second = `  - name: AWS-SANDBOX\n    id: 22222222-2222-3333-4444-555555555555\n    type: AWS\n    scheme: None\n`;
  rejects(`${yaml}${second}`, /serviceConnections\[1\]\.name repeats the connection name/);
  const sameId = `  - name: other\n    id: 0b0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\n    type: AWS\n    scheme: None\n`;
  rejects(`${yaml}${sameId}`, /serviceConnections\[1\]\.id repeats the connection id/);
});

test('bad syntax and bad URLs are reported', () => {
  rejects('collectionUri: [unclosed', /not valid YAML or JSON/);
  rejects(yaml.replace('http://127.0.0.1:4566/contoso', 'ftp://x/'), /must be an http\(s\) URL/);
});

test('loadAgentSettings reads a file and reports a missing one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-settings-'));
  try {
    await writeFile(join(dir, 'agent.yml'), yaml);
    assert.equal((await loadAgentSettings(join(dir, 'agent.yml'))).teamProject, 'demo');
    await assert.rejects(loadAgentSettings(join(dir, 'missing.yml')), AgentSettingsError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('default settings are local and random per call', () => {
  const a = defaultAgentSettings();
  const b = defaultAgentSettings();
  assert.equal(a.collectionUri, 'http://127.0.0.1/local/');
  assert.match(a.teamProjectId, /^[0-9a-f-]{36}$/);
  assert.notEqual(a.teamProjectId, b.teamProjectId);
  assert.notEqual(a.accessToken, b.accessToken);
  assert.deepEqual([a.serviceConnections, a.variableGroups, a.environment], [[], {}, {}]);
});
