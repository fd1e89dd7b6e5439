// Hostile conditions, interruption: the runner (`keyless pipeline run`, a real process) is killed with SIGKILL
// mid-deployment and run again, and cancelled with SIGINT / SIGTERM mid-deployment with and without the
// CodeDeploy task's stopOnCancel. The sample's BeforeInstall hook is slowed (by a delay file the hook reads
// when it runs) so that there is a deployment in progress to interrupt.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { step } from '../../src/demo/blog-demo';
import { HostileCollector } from './collector';
import { startRunner, tail, type RunnerProcess } from './runner-process';
import {
  fetchVersion,
  installSlowHook,
  logTail,
  overlaps,
  startSampleSystem,
  writePipelineVariant,
  type SampleSystem,
} from './sample-system';

const createdDeployment = /Created deployment (d-[A-Z0-9]+)/;

describe('hostile: the runner killed or cancelled mid-deployment', { timeout: 420_000 }, () => {
  const collector = new HostileCollector('interruption');
  let system: SampleSystem;
  let delayFile: string;
  let websiteUrl: string;
  const runners: RunnerProcess[] = [];
  let runsCompleted = 0;

  const runner = (pipeline: string, args: string[] = []) => {
    const started = startRunner(system, pipeline, args);
    runners.push(started);
    return started;
  };
  const deploymentStatus = async (deploymentId: string) =>
    (await system.codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo ?? {};

  before(async () => {
    system = await startSampleSystem({
      label: 'interruption',
      collector,
      prepare: async (repo) => {
        delayFile = join(repo, '..', 'hook-delay-seconds');
        // 1800 simulated seconds = 30 real seconds at the sandbox's 60x: room for the longest delay used here.
        await installSlowHook(repo, delayFile, 1800);
        await writePipelineVariant(repo, 'azure-pipelines.stop-on-cancel.yml', {
          deploy: { stopOnCancel: true },
        });
      },
    });
    const v1 = await system.run();
    assert.equal(v1.result, 'Succeeded', await logTail(v1));
    runsCompleted++;
    websiteUrl = step(v1, 'stack')!.outputs.WebsiteURL!;
    assert.ok(websiteUrl, 'the stack published WebsiteURL');
  });

  after(async () => {
    for (const started of runners) {
      started.killTree();
      collector.addText('runner output', started.output());
    }
    await system?.close();
  });

  test('SIGKILL mid-deployment, then a re-run: it waits out the orphaned deployment (never two at once) and converges', async () => {
    await system.pushVersion('v2');
    await writeFile(delayFile, '20');
    const killed = runner('azure-pipelines.yml');
    const orphan = (await killed.waitFor(createdDeployment, 120_000))[1]!;
    const pids = killed.killTree();
    assert.ok(pids.length >= 2, `the runner and its task process were killed (${pids.join(', ')})`);
    const end = await killed.exited;
    assert.equal(end.signal, 'SIGKILL');
    // The premise: the orphaned deployment is still running when the re-run starts (else nothing is proven).
    assert.equal((await deploymentStatus(orphan)).status, 'InProgress');

    await writeFile(delayFile, '0');
    const rerun = runner('azure-pipelines.yml');
    const result = await rerun.exited;
    const output = rerun.output();
    assert.equal(result.code, 0, tail(output));
    assert.match(output, new RegExp(`is busy with deployment ${orphan}`), 'the re-run waited for the orphan');
    const own = createdDeployment.exec(output)?.[1];
    assert.ok(own && own !== orphan, `the re-run created its own deployment (${own})`);
    assert.equal(
      (await deploymentStatus(orphan)).status,
      'Succeeded',
      'the orphan finished without its runner',
    );
    assert.equal((await deploymentStatus(own)).status, 'Succeeded');

    const deployments = await system.deployments();
    assert.deepEqual(overlaps(deployments), []);
    assert.deepEqual(
      deployments.slice(-2).map((deployment) => deployment.deploymentId),
      [orphan, own],
      'exactly the orphan and the re-run deployment since v1',
    );
    assert.equal(await fetchVersion(websiteUrl), 'v2');
    runsCompleted++;
  });

  test('SIGINT with stopOnCancel: the deployment is stopped and rolled back, the log says so, v2 keeps serving', async () => {
    await system.pushVersion('v3');
    await writeFile(delayFile, '20');
    const record = join(system.work, 'stop-on-cancel.json');
    const cancelled = runner('azure-pipelines.stop-on-cancel.yml', ['--record', record]);
    const id = (await cancelled.waitFor(createdDeployment, 120_000))[1]!;
    cancelled.child.kill('SIGINT');
    const result = await cancelled.exited;
    const output = cancelled.output();
    assert.equal(result.code, 1, tail(output));
    assert.equal(JSON.parse(await readFile(record, 'utf8')).result, 'Canceled');
    assert.match(output, new RegExp(`stopping deployment ${id} with automatic rollback`));
    assert.match(
      output,
      new RegExp(`The run was cancelled: deployment ${id} was stopped and (is being )?rolled back`),
    );

    const info = await system.waitForDeployment(id, 60_000);
    assert.equal(info.status, 'Stopped');
    const rollback = info.rollbackInfo?.rollbackDeploymentId;
    assert.ok(rollback, 'CodeDeploy started a rollback deployment');
    assert.notEqual((await system.waitForDeployment(rollback, 60_000)).status, 'Failed');
    assert.equal(await fetchVersion(websiteUrl), 'v2', 'the cancelled release never took traffic');
    runsCompleted++;
  });

  test('SIGTERM without stopOnCancel: the log says the deployment continues and how to watch it; it then succeeds', async () => {
    await system.pushVersion('v4');
    await writeFile(delayFile, '12');
    const cancelled = runner('azure-pipelines.yml');
    const id = (await cancelled.waitFor(createdDeployment, 120_000))[1]!;
    cancelled.child.kill('SIGTERM');
    const result = await cancelled.exited;
    const output = cancelled.output();
    assert.equal(result.code, 1, tail(output));
    assert.match(output, new RegExp(`deployment ${id} continues in AWS`));
    assert.match(output, new RegExp(`aws deploy get-deployment --deployment-id ${id} --region us-east-1`));
    assert.match(output, /Set stopOnCancel: true/);
    assert.equal((await deploymentStatus(id)).status, 'InProgress', 'still running after the run ended');

    const info = await system.waitForDeployment(id, 90_000);
    assert.equal(info.status, 'Succeeded');
    assert.equal(await fetchVersion(websiteUrl), 'v4');
    runsCompleted++;
  });

  test('afterwards: one stack, and no two deployments of the group ever overlapped', async () => {
    assert.equal((await system.liveStacks()).length, 1);
    const deployments = await system.deployments();
    assert.deepEqual(overlaps(deployments), []);
    assert.equal(
      deployments.filter(
        (deployment) => !['Succeeded', 'Failed', 'Stopped'].includes(deployment.status ?? ''),
      ).length,
      0,
      'none still in progress',
    );
  });

  test('no secret reached any output of these runs', async () => {
    for (const started of runners) collector.addText('runner output', started.output());
    runners.length = 0;
    await system.close();
    collector.count('runsCompleted', runsCompleted);
    assert.ok(collector.secretCount > 5, `secrets were collected (${collector.secretCount})`);
    assert.deepEqual(collector.leaks(), []);
    await collector.persist();
  });
});
