import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeMessage, selectNodeHandler } from './node-task';
import type { TaskDefinition } from '../tasks/catalog';

function task(execution: TaskDefinition['execution']): TaskDefinition {
  return {
    id: '3e0b3a59-5a5e-4d43-9a4c-6b1f4e5c7d01',
    name: 'T',
    version: { Major: 1, Minor: 0, Patch: 0 },
    directory: '/tasks/T',
    inputs: [],
    execution,
    outputVariables: [],
  };
}

test('handler preference is Node24 > Node20_1 > Node16 > Node10 > Node', () => {
  const all = { Node: { target: 'n6.js' }, Node10: { target: 'n10.js' }, Node16: { target: 'n16.js' } };
  assert.equal(selectNodeHandler(task(all))?.handler, 'Node16');
  assert.equal(selectNodeHandler(task({ ...all, Node20_1: { target: 'a.js' } }))?.handler, 'Node20_1');
  assert.equal(
    selectNodeHandler(task({ ...all, Node20_1: { target: 'a.js' }, Node24: { target: 'b.js' } }))?.target,
    '/tasks/T/b.js',
  );
  assert.equal(selectNodeHandler(task({ Node: { target: 'n6.js' } }))?.deprecated, true);
  assert.equal(selectNodeHandler(task({ Node20_1: { target: 'a.js' } }))?.deprecated, false);
  assert.equal(selectNodeHandler(task({ PowerShell3: { target: 'x.ps1' } })), undefined);
});

test('targets and working directories resolve against the task folder and $(currentDirectory)', () => {
  const handler = selectNodeHandler(
    task({ Node20_1: { target: '$(currentDirectory)/dist/index.js', workingDirectory: 'work' } }),
  );
  assert.equal(handler?.target, '/tasks/T/dist/index.js');
  assert.equal(handler?.workingDirectory, '/tasks/T/work');
  assert.equal(selectNodeHandler(task({ Node20_1: { target: '/abs/../x.js' } }))?.target, '/x.js');
});

test('the exit-code message is the agent’s', () => {
  assert.equal(
    exitCodeMessage(2, '/usr/bin/node', ['/tasks/T/index.js']),
    `Exit code 2 returned from process: file name '/usr/bin/node', arguments '"/tasks/T/index.js"'.`,
  );
});
