import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGraph, SlotPool } from './schedule';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('nodes start when their dependencies finish, independent ones side by side', async () => {
  const events: string[] = [];
  let running = 0;
  let peak = 0;
  const results = await runGraph(
    [
      { name: 'A', dependsOn: [] },
      { name: 'B', dependsOn: [] },
      { name: 'C', dependsOn: ['A', 'B'] },
      { name: 'D', dependsOn: ['A'] },
    ],
    async (node, finished) => {
      events.push(`start ${node.name} after ${[...finished.keys()].sort().join(',')}`);
      running++;
      peak = Math.max(peak, running);
      await tick(node.name === 'B' ? 40 : 5);
      running--;
      return node.name.toLowerCase();
    },
  );
  assert.deepEqual(Object.fromEntries(results), { A: 'a', B: 'b', C: 'c', D: 'd' });
  assert.equal(peak, 2);
  // D needs only A, so it starts while B is still running.
  assert.ok(events.includes('start D after A'), events.join('; '));
  const c = events.find((event) => event.startsWith('start C'))!;
  assert.match(c, /after A,B/);
});

test('slots are bounded and handed back in order', async () => {
  const pool = new SlotPool(2);
  const first = await pool.acquire();
  const second = await pool.acquire();
  assert.deepEqual([first, second], [0, 1]);
  let third: number | undefined;
  const waiting = pool.acquire().then((slot) => (third = slot));
  await tick(5);
  assert.equal(third, undefined);
  pool.release(second);
  await waiting;
  assert.equal(third, 1);
  pool.release(first);
  pool.release(1);
  assert.equal(await pool.acquire(), 0);
});
