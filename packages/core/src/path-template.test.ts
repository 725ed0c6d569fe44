import { describe, expect, it } from 'vitest';
import { InputError } from './errors.ts';
import { fillPathTemplate, hasDotSegment, pathTemplateNames, rewritePathTemplate } from './path-template.ts';

const fill = (template: string, values: Record<string, string | undefined>) =>
  fillPathTemplate(template, (name) => ({ text: values[name], pointer: `/${name}` }));

function refusal(template: string, values: Record<string, string | undefined>): InputError {
  try {
    fill(template, values);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('path templates', () => {
  it('reads {x} and {{x}} placeholders, in order', () => {
    expect(pathTemplateNames('/a/{x}/b/{{ y }}/{z.w}')).toEqual(['x', 'y', 'z.w']);
    expect(rewritePathTemplate('/a/{{x}}/{y}', (name) => `{${name}}`)).toBe('/a/{x}/{y}');
  });

  it('percent-encodes each value into its own segment', () => {
    expect(fill('/users/{id}/items/{{item}}', { id: 'a/b?c#d', item: '..%2F' })).toBe('/users/a%2Fb%3Fc%23d/items/..%252F');
  });

  it.each(['.', '..', '%2e', '%2E%2e', '.%2E', '%252e', '%25252e%2e', '%25%32%65', '%2525%32%65'])(
    'refuses %j, a dot segment once decoded',
    (value) => {
      const error = refusal('/users/{id}', { id: value });
      expect(error.problems).toEqual([
        {
          pointer: '/id',
          message: 'must not be "." or ".." (nor a percent-encoding of them): the upstream path {id} takes exactly one path segment',
        },
      ]);
    },
  );

  it.each(['...', '.a', 'a.', '%2e%2e%2e', '%2e%2fx', '%', '%zz'])('keeps %j, which no decoding turns into a dot segment', (value) => {
    expect(fill('/users/{id}', { id: value })).toBe(`/users/${encodeURIComponent(value)}`);
  });

  it('refuses empty or missing values and lone surrogates, naming every one', () => {
    const error = refusal('/{a}/{b}/{c}', { a: '', b: undefined, c: 'x\udc00' });
    expect(error.problems).toEqual([
      { pointer: '/a', message: 'is required to fill the upstream path {a}' },
      { pointer: '/b', message: 'is required to fill the upstream path {b}' },
      { pointer: '/c', message: 'must be well-formed Unicode text (it contains a lone surrogate)' },
    ]);
  });

  it('spots the dot segments a URL parser would resolve, and only those', () => {
    for (const path of ['/a/..', '/a/../b', '/./b', '/a/%2E%2e/b', '/a/.%2e?x', '/a\\..\\b', '..'])
      expect(hasDotSegment(path), path).toBe(true);
    for (const path of ['/a/...', '/a/..b', '/a/%252e', '/a/b?x=/../', '/a/b#/..', '/a/.hidden', '/a/..%2Fb'])
      expect(hasDotSegment(path), path).toBe(false);
  });
});
