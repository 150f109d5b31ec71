import { describe, expect, it } from 'vitest';
import { parseObject } from '../../../shared/providers/json-walk.js';

describe('parseObject', () => {
  it('parses an object, with JSON whitespace before it', () => {
    expect(parseObject('{"a":1}')).toEqual({ a: 1 });
    expect(parseObject(' \n\t\r{"a":[1]}')).toEqual({ a: [1] });
  });

  it('answers null for what is no object, without parsing it', () => {
    for (const text of ['', '[DONE]', '[1,2]', '"text"', '42', 'null', '  ', 'data: {}']) expect(parseObject(text)).toBeNull();
  });

  it('answers null for a malformed object', () => {
    expect(parseObject('{"a":')).toBeNull();
    expect(parseObject('{} trailing')).toBeNull();
  });
});
