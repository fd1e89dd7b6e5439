import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VariableCycleError, VariableStore, envName, expandMacros, expandVariableValues } from './variables';

const v = (name: string, value: string, extra: { secret?: boolean; readonly?: boolean } = {}) => ({
  name,
  value,
  secret: extra.secret ?? false,
  readonly: extra.readonly ?? false,
});

const lookupIn = (values: Record<string, string>) => (name: string) => values[name];

test('expandMacros substitutes known macros, including dotted and output-style names', () => {
  const lookup = lookupIn({ 'a.b': 'AB', 'step.var': 'out', region: 'us-east-1' });
  assert.equal(expandMacros('$(a.b)-$(region)/$(step.var)', lookup), 'AB-us-east-1/out');
});

test('expandMacros keeps unknown macros literal and still expands the ones after them', () => {
  const lookup = lookupIn({ known: 'K' });
  assert.equal(expandMacros('$(unknown) $(known) $() $(known', lookup), '$(unknown) K $() $(known');
});

test('expandMacros substitutes secret values (masking happens on output)', () => {
  const store = new VariableStore([v('token', 's3cr3t', { secret: true })]);
  assert.equal(
    expandMacros('Bearer $(token)', (name) => store.get(name)?.value),
    'Bearer s3cr3t',
  );
});

test('expandMacros is one pass: a value containing $(other) stays as it is', () => {
  const lookup = lookupIn({ a: '$(b)', b: 'B' });
  assert.equal(expandMacros('x=$(a) y=$(b)', lookup), 'x=$(b) y=B');
});

test('expandMacros follows the agent scan: the name runs to the next ) and unknown names resume after $(', () => {
  const lookup = lookupIn({ b: 'B', 'a$(b': 'never' });
  // The lookup sees 'a$(b' first (the text up to the first ')'); being defined here, it is substituted.
  assert.equal(expandMacros('$(a$(b))', lookup), 'never)');
  // When that candidate is unknown, the inner $(b) is expanded and the outer text stays literal.
  assert.equal(expandMacros('$(a$(b))', lookupIn({ b: 'B' })), '$(aB)');
  assert.equal(expandMacros('$(x(y))', lookupIn({ 'x(y': 'no' })), 'no)');
});

test('envName upper-cases and maps . and space to _', () => {
  assert.equal(envName('Build.SourcesDirectory'), 'BUILD_SOURCESDIRECTORY');
  assert.equal(envName('my var.x'), 'MY_VAR_X');
  assert.equal(envName('already_OK'), 'ALREADY_OK');
});

test('lookups are case-insensitive and entries keep the original spelling', () => {
  const store = new VariableStore([v('Build.BuildNumber', '20260115.3')]);
  assert.equal(store.get('build.buildnumber')?.value, '20260115.3');
  assert.equal(store.get('BUILD.BUILDNUMBER')?.name, 'Build.BuildNumber');
  assert.deepEqual(
    store.entries().map((e) => e.name),
    ['Build.BuildNumber'],
  );
  assert.deepEqual(store.set('myVar', '1'), { ok: true });
  assert.deepEqual(store.set('MYVAR', '2'), { ok: true });
  assert.equal(store.get('myvar')?.value, '2');
  assert.equal(store.entries().length, 2);
});

test('readonly variables refuse writes with a reason and keep their value', () => {
  const store = new VariableStore([v('System.AccessToken', 'tok', { secret: true, readonly: true })]);
  const result = store.set('system.accesstoken', 'other');
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.reason, /System\.AccessToken.*read-only/);
  assert.equal(store.get('System.AccessToken')?.value, 'tok');
  assert.deepEqual(store.set('fresh', 'x', { readonly: true }), { ok: true });
  assert.equal(store.set('fresh', 'y').ok, false);
});

test('once secret, always secret', () => {
  const store = new VariableStore();
  store.set('pwd', 'a', { secret: true });
  store.set('pwd', 'b');
  store.set('PWD', 'c', { secret: false });
  assert.deepEqual(store.get('pwd'), { name: 'PWD', value: 'c', secret: true, readonly: false });
  const initial = new VariableStore([v('k', '1', { secret: true }), v('K', '2')]);
  assert.equal(initial.get('k')?.secret, true);
});

test('get and entries return copies; clone is independent', () => {
  const store = new VariableStore([v('a', '1')]);
  const got = store.get('a');
  if (got) got.value = 'mutated';
  assert.equal(store.get('a')?.value, '1');
  const copy = store.clone();
  copy.set('a', '2');
  copy.set('b', '3');
  assert.equal(store.get('a')?.value, '1');
  assert.equal(store.get('b'), undefined);
  assert.equal(copy.get('a')?.value, '2');
});

test('expandVariableValues expands recursively regardless of order, readonly included, unknown kept', () => {
  const store = new VariableStore([
    v('url', 'https://$(host)/$(Path.Part)'),
    v('host', '$(name).$(domain)', { readonly: true }),
    v('name', 'api'),
    v('domain', 'example.com'),
    v('path.part', 'v1/$(missing)'),
  ]);
  expandVariableValues(store);
  assert.equal(store.get('url')?.value, 'https://api.example.com/v1/$(missing)');
  assert.equal(store.get('host')?.value, 'api.example.com');
  assert.equal(store.get('host')?.readonly, true);
});

test('expandVariableValues refuses cycles and names them', () => {
  const store = new VariableStore([v('a', 'x$(b)'), v('b', '$(C)'), v('c', '$(a)'), v('d', 'fine')]);
  assert.throws(
    () => expandVariableValues(store),
    (error: unknown) =>
      error instanceof VariableCycleError &&
      error.code === 'VariableCycle' &&
      /\$\(a\) → \$\(b\) → \$\(c\) → \$\(a\)/.test(error.message),
  );
  const self = new VariableStore([v('loop', 'again $(LOOP)')]);
  assert.throws(() => expandVariableValues(self), /\$\(loop\) → \$\(loop\)/);
});

test('expandVariableValues allows a chain of 50 variables and refuses 51, like the agent', () => {
  const chain = (length: number) =>
    new VariableStore(
      Array.from({ length }, (_, i) => v(`v${i}`, i === length - 1 ? 'end' : `$(v${i + 1})`)),
    );
  const ok = chain(50);
  expandVariableValues(ok);
  assert.equal(ok.get('v0')?.value, 'end');
  assert.throws(() => expandVariableValues(chain(51)), VariableCycleError);
});
