import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultAgentSettings } from '../agent-settings';
import {
  predefinedVariables,
  qualifiedBranch,
  sourceBranchName,
  type JobFacts,
  type RunFacts,
} from './predefined-variables';

const agent = {
  ...defaultAgentSettings(),
  collectionUri: 'http://127.0.0.1:4566/contoso/',
  teamProject: 'web',
};
const run: RunFacts = {
  buildId: 7,
  buildNumber: '20261129.3',
  definitionName: 'sample-app',
  reason: 'Manual',
  sourceBranch: 'refs/heads/feature/login',
  sourceVersion: 'a'.repeat(40),
  repositoryName: 'keyless',
  requestedFor: 'dev',
  planId: '11111111-2222-3333-4444-555555555555',
  debug: true,
  agent,
  directories: {
    work: '/w',
    build: '/w/7',
    sources: '/src',
    staging: '/w/7/a',
    binaries: '/w/7/b',
    files: '/w/7/files',
    tools: '/w/_tool',
  },
};
const job: JobFacts = {
  stageName: 'Deploy',
  stageDisplayName: 'Deploy it',
  jobName: 'Web',
  jobDisplayName: 'Web servers',
  jobId: '99999999-8888-7777-6666-555555555555',
  directories: {
    work: '/w',
    build: '/w/7',
    sources: '/src',
    temp: '/w/_temp',
    staging: '/w/7/a',
    binaries: '/w/7/b',
    files: '/w/7/files',
  },
};

const byName = () => new Map(predefinedVariables(run, job).map((value) => [value.name, value]));

test('the agent folder layout and the build facts are exposed under their Azure names', () => {
  const values = byName();
  const value = (name: string) => values.get(name)?.value;
  assert.equal(value('Agent.BuildDirectory'), '/w/7');
  assert.equal(value('Pipeline.Workspace'), '/w/7');
  assert.equal(value('Agent.TempDirectory'), '/w/_temp');
  assert.equal(value('Agent.WorkFolder'), '/w');
  assert.equal(value('Build.SourcesDirectory'), '/src');
  assert.equal(value('System.DefaultWorkingDirectory'), '/src');
  assert.equal(value('Build.ArtifactStagingDirectory'), '/w/7/a');
  assert.equal(value('Build.BinariesDirectory'), '/w/7/b');
  assert.equal(value('Build.BuildId'), '7');
  assert.equal(value('Build.BuildNumber'), '20261129.3');
  assert.equal(value('Build.BuildUri'), 'vstfs:///Build/Build/7');
  assert.equal(value('Build.SourceBranchName'), 'login');
  assert.equal(value('Build.Repository.Provider'), 'TfsGit');
  assert.equal(value('System.StageName'), 'Deploy');
  assert.equal(value('System.JobDisplayName'), 'Web servers');
  assert.equal(value('System.PhaseName'), 'Web');
  assert.equal(value('System.HostType'), 'build');
  assert.equal(value('System.TeamFoundationCollectionUri'), 'http://127.0.0.1:4566/contoso/');
  assert.equal(value('System.Debug'), 'true');
  assert.equal(value('Agent.JobStatus'), 'Succeeded');
  assert.equal(value('Agent.OS'), process.platform === 'linux' ? 'Linux' : value('Agent.OS'));
  assert.equal(value('TF_BUILD'), 'True');
});

test('System.OidcRequestUri is built from the collection, project, plan and job', () => {
  assert.equal(
    byName().get('System.OidcRequestUri')?.value,
    `http://127.0.0.1:4566/contoso/${agent.teamProjectId}/_apis/distributedtask/hubs/build/plans/` +
      '11111111-2222-3333-4444-555555555555/jobs/99999999-8888-7777-6666-555555555555/oidctoken',
  );
});

test('System.AccessToken is a secret; system variables are read-only except the runner-owned ones', () => {
  const values = byName();
  const token = values.get('System.AccessToken')!;
  assert.equal(token.secret, true);
  assert.equal(token.value, agent.accessToken);
  for (const value of values.values()) {
    if (value.name !== 'System.AccessToken') assert.equal(value.secret, false, value.name);
  }
  assert.equal(values.get('Build.SourcesDirectory')?.readonly, true);
  assert.equal(values.get('System.TeamProjectId')?.readonly, true);
  assert.equal(values.get('System.Debug')?.readonly, false);
  assert.equal(values.get('Agent.JobStatus')?.readonly, false);
});

test('branch helpers', () => {
  assert.equal(qualifiedBranch('main'), 'refs/heads/main');
  assert.equal(qualifiedBranch('refs/tags/v1'), 'refs/tags/v1');
  assert.equal(sourceBranchName('refs/heads/releases/1.2'), '1.2');
});
