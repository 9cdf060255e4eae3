// A client for the doors (/jobs, /api/v1) in tests: sends a request (redirects not followed), reads the
// answer, and checks it against openapi.yaml's documented response for the path template.
import assert from 'node:assert/strict';
import { assertDoorAnswer } from './openapi-spec.js';

export interface DoorAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface DoorRequest {
  /** The path template in openapi.yaml the answer is checked against. */
  template: string;
  /** The Bearer credential (API token or session name); none when undefined. */
  bearer?: string;
  /** A JSON body (serialized), or `raw` text sent as is. */
  json?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

export async function door(base: string, method: string, path: string, r: DoorRequest): Promise<DoorAnswer> {
  const headers: Record<string, string> = { ...r.headers };
  if (r.bearer !== undefined) headers.authorization = `Bearer ${r.bearer}`;
  let body: string | undefined = r.raw;
  if (r.json !== undefined) {
    body = JSON.stringify(r.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  assert.match(type, /^application\/(problem\+)?json\b/, `${method} ${path}: ${res.status} ${type} ${text}`);
  const parsed = JSON.parse(text);
  assertDoorAnswer(method, r.template, res.status, type, parsed);
  if (res.status >= 400) {
    assert.match(type, /^application\/problem\+json/, `${method} ${path}: an error is a problem`);
    assert.equal(parsed.status, res.status, 'the problem repeats the HTTP status');
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Asserts a problem answer: HTTP status, coreBOS code and (when given) the field it names. */
export function assertProblem(a: DoorAnswer, status: number, code: string, field?: string): void {
  assert.equal(a.status, status, JSON.stringify(a.body));
  assert.equal(a.body.code, code, a.body.detail);
  if (field !== undefined) assert.equal(a.body.field, field, a.body.detail);
}
