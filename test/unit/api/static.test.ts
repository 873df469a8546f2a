import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HttpError } from '../../../src/errors.js'
import { resolveStaticPath } from '../../../src/api/static.js'

const ROOT = '/srv/frontend'
const status = (path: string): number | string => {
  try {
    return resolveStaticPath(ROOT, path)
  } catch (err) {
    assert.ok(err instanceof HttpError)
    return err.status
  }
}

void test('maps paths inside the folder, with index.html for folders', () => {
  assert.equal(status('/'), '/srv/frontend/index.html')
  assert.equal(status('/app.js'), '/srv/frontend/app.js')
  assert.equal(status('/a/b.css'), '/srv/frontend/a/b.css')
  assert.equal(status('/a/'), '/srv/frontend/a/index.html')
  assert.equal(status('/caf%C3%A9.txt'), '/srv/frontend/café.txt')
})

void test('refuses dot segments, encoded or not, hidden files and backslashes', () => {
  for (const p of [
    '/..',
    '/../x',
    '/a/../../x',
    '/%2e%2e/x',
    '/%2E%2e%2Fx',
    '/..%2fx',
    '/.env',
    '/a/.git/config',
    '/a//b',
    '/..\\x',
    '/%5c..%5cx',
    '/./x'
  ]) {
    assert.equal(status(p), 404, p)
  }
})

void test('refuses NUL bytes and undecodable paths with 400', () => {
  for (const p of ['/x%00.js', '/%00', '/x\0', '/%E0%A4%A', '/%']) assert.equal(status(p), 400, p)
})
