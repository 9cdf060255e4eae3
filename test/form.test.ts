import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeComponent, parseForm } from '../src/http/form.js';
import { WsError } from '../src/errors.js';

test('form decoding follows PHP: + is a space, valid %XX decoded, a lone % kept', () => {
  assert.equal(decodeComponent('a+b'), 'a b');
  assert.equal(decodeComponent('100%'), '100%');
  assert.equal(decodeComponent("like 'S%'"), "like 'S%'");
  assert.equal(decodeComponent('%zz%4'), '%zz%4');
  assert.equal(decodeComponent('%C3%A9t%C3%A9'), 'été');
  assert.equal(decodeComponent('%2B'), '+');
  assert.equal(decodeComponent('😀'), '😀');
});

test('form bodies with unencoded JSON values parse as corebos-ws-lib sends them', () => {
  const p = parseForm('operation=create&element={"lastname":"O\'Hara","email":"a+b@x.io"}&elementType=Contacts&x');
  assert.equal(p.operation, 'create');
  assert.deepEqual(JSON.parse(p.element as string), { lastname: "O'Hara", email: 'a b@x.io' });
  assert.equal(p.elementType, 'Contacts');
  assert.equal(p.x, '');
  assert.equal(parseForm('a=1&a=2').a, '2');
});

test('bracketed names are read as PHP parse_str reads them', () => {
  const p = parseForm('cbwsOptions%5Blaunchfromqueue%5D=1&cbwsOptions%5Bqueuedelay%5D=0&element[lastname]=x&element[firstname]=y');
  assert.deepEqual({ ...(p.cbwsOptions as object) }, { launchfromqueue: '1', queuedelay: '0' });
  assert.deepEqual({ ...(p.element as object) }, { lastname: 'x', firstname: 'y' });
  assert.deepEqual(parseForm('a[]=1&a[]=2').a, ['1', '2']);
  assert.deepEqual(parseForm('a[b][c]=1&a[b][d]=2').a, { b: { c: '1', d: '2' } });
  assert.deepEqual(parseForm('a[][x]=1&a[][x]=2').a, [{ x: '1' }, { x: '2' }]);
  // Explicit indexes move where [] appends; keys that are not 0..n-1 in order make an object.
  assert.deepEqual(parseForm('a[5]=x&a[]=y').a, { 5: 'x', 6: 'y' });
  assert.deepEqual(parseForm('a[0]=x&a[1]=y').a, ['x', 'y']);
  assert.deepEqual(parseForm('a[1]=x&a[0]=y').a, { 0: 'y', 1: 'x' });
  // A later plain value replaces an array, a later bracketed name a plain value (PHP).
  assert.equal(parseForm('a[b]=1&a=2').a, '2');
  assert.deepEqual(parseForm('a=2&a[b]=1').a, { b: '1' });
  assert.deepEqual(parseForm('a[b]=1&a[b][c]=2').a, { b: { c: '2' } });
  // PHP's edge cases: an empty base drops the pair, an unclosed first [ becomes _, text after ] is ignored.
  assert.deepEqual(Object.keys(parseForm('[x]=1&=2')), []);
  assert.equal(parseForm('a[b=1').a_b, '1');
  assert.deepEqual(parseForm('a[b]c=1').a, { b: '1' });
  assert.deepEqual(parseForm('a[b][c=1').a, { b: '1' });
  assert.equal(parseForm('  lead=1').lead, '1');
  // Unencoded JSON values are untouched.
  assert.equal(parseForm('element={"a":[1]}').element, '{"a":[1]}');
});

test('bracketed names: limits and prototype keys answer INVALID_PARAMETER', () => {
  const invalid = (text: string, pattern: RegExp) =>
    assert.throws(
      () => parseForm(text),
      (e: unknown) => e instanceof WsError && e.code === 'INVALID_PARAMETER' && pattern.test(e.message),
    );
  invalid(`a${'[x]'.repeat(65)}=1`, /64 levels/);
  assert.doesNotThrow(() => parseForm(`a${'[x]'.repeat(64)}=1`));
  invalid(Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&'), /1000 parameters/);
  assert.doesNotThrow(() => parseForm(Array.from({ length: 1000 }, (_, i) => `e[f${i}]=1`).join('&')));
  for (const bad of ['__proto__[x]=1', 'a[__proto__][x]=1', 'a[constructor][prototype][x]=1', 'a[b][prototype]=1', 'constructor=1']) {
    invalid(bad, /not allowed/);
  }
  assert.equal(({} as Record<string, unknown>).x, undefined);
});
