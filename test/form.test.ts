import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeComponent, parseForm } from '../src/http/form.js';

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
  assert.deepEqual(JSON.parse(p.element!), { lastname: "O'Hara", email: 'a b@x.io' });
  assert.equal(p.elementType, 'Contacts');
  assert.equal(p.x, '');
  assert.equal(parseForm('a=1&a=2').a, '2');
});
