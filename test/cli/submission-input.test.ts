/**
 * How `signalbank submit` reads its input. CSV lines: labels per line, separated by `;` or `|`,
 * or by commas inside a quoted cell; a header row is skipped; a broken line is reported by number.
 * NDJSON lines: a field that is present but not what the format allows (media, ref, quality,
 * labels, type, hash) refuses that line with `ERR_VALIDATION` instead of being changed or dropped.
 */
import { describe, expect, it } from 'vitest';
import { parseInputLine, splitCsvLine } from '../../src/cli/submission-input.js';

const DEFAULTS = { labels: ['self_harm'], media: 'image' } as const;
const HASH = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';

describe('submit input: CSV', () => {
  it('splits cells with RFC 4180 quoting', () => {
    expect(splitCsvLine('a, "b,c" ,"say ""hi"""')).toEqual(['a', 'b,c', 'say "hi"']);
    expect(splitCsvLine('a,"open')).toBeUndefined();
  });

  it('takes the labels of each line, also a quoted comma-separated list, and the defaults when the cell is empty', () => {
    expect(parseInputLine(1, 'type,hash,labels', DEFAULTS)).toEqual([]);
    expect(parseInputLine(2, `pdq,${HASH},"suicide,graphic",100`, DEFAULTS)).toEqual([
      { line: 2, item: { type: 'pdq', hash: HASH, labels: ['suicide', 'graphic'], media: 'image', quality: 100 } },
    ]);
    expect(parseInputLine(3, `pdq,${HASH},suicide;graphic`, DEFAULTS)[0]).toMatchObject({ item: { labels: ['suicide', 'graphic'] } });
    expect(parseInputLine(4, `md5,9e107d9d372bb6826bd81d3542a419d6,`, DEFAULTS)[0]).toMatchObject({ item: { labels: ['self_harm'] } });
  });

  it('reports a line with an unclosed quote by its number', () => {
    const [record] = parseInputLine(5, `pdq,${HASH},"suicide,graphic`, DEFAULTS);
    expect(record).toMatchObject({ line: 5, error: { code: 'ERR_VALIDATION' } });
    expect(record && 'error' in record && record.error.message).toContain('quote');
  });

  it('refuses a line with more than the four columns instead of dropping the extra ones', () => {
    expect(parseInputLine(6, `md5,9e107d9d372bb6826bd81d3542a419d6,suicide,,video`, DEFAULTS)).toEqual([
      { line: 6, error: { code: 'ERR_VALIDATION', message: expect.stringContaining('5 columns') as unknown } },
    ]);
    expect(parseInputLine(7, `pdq,${HASH},suicide,90,`, DEFAULTS)[0]).toMatchObject({ item: { quality: 90 } });
  });
});

describe('submit input: NDJSON', () => {
  const json = (line: number, value: Record<string, unknown>) => parseInputLine(line, JSON.stringify(value), DEFAULTS);
  const refusal = (line: number, field: string) => [{ line, error: { code: 'ERR_VALIDATION', message: expect.stringContaining(field) as unknown } }];

  it('takes media, ref, quality and labels of an item as given, and the defaults where absent', () => {
    expect(json(1, { type: 'pdq', hash: HASH, media: 'video', ref: 'case-1', quality: 80, labels: ['suicide', 'graphic'] })).toEqual([
      { line: 1, item: { type: 'pdq', hash: HASH, labels: ['suicide', 'graphic'], media: 'video', quality: 80, ref: 'case-1' } },
    ]);
    expect(json(2, { type: 'md5', hash: '9e107d9d372bb6826bd81d3542a419d6' })).toEqual([
      { line: 2, item: { type: 'md5', hash: '9e107d9d372bb6826bd81d3542a419d6', labels: ['self_harm'], media: 'image' } },
    ]);
    expect(json(3, { file: 'a.jpg', pdq: HASH, pdqQuality: 100, media: 'video' })).toEqual([
      { line: 3, file: 'a.jpg', item: { type: 'pdq', hash: HASH, labels: ['self_harm'], media: 'video', quality: 100 } },
    ]);
  });

  it.each([
    ['a media other than image or video', { media: 'audio' }, 'media'],
    ['a media of the wrong case', { media: 'Video' }, 'media'],
    ['a null media', { media: null }, 'media'],
    ['a ref that is a number', { ref: 12345 }, 'ref'],
    ['a ref that is an object', { ref: { id: 1 } }, 'ref'],
    ['a quality that is a string', { quality: '80' }, 'quality'],
    ['labels that are not strings', { labels: ['suicide', 7] }, 'labels'],
    ['labels that are a number', { labels: 3 }, 'labels'],
    ['a type that is not a string', { type: 1 }, 'type'],
  ])('refuses an item with %s as that line’s error', (_name, field, named) => {
    expect(json(4, { type: 'pdq', hash: HASH, quality: 90, ...field })).toEqual(refusal(4, named));
  });

  it('refuses a hash line whose media, ref or pdqQuality is wrong, naming the file', () => {
    expect(json(5, { file: 'b.jpg', pdq: HASH, pdqQuality: 100, media: 'gif' })).toEqual([{ file: 'b.jpg', ...refusal(5, 'media')[0] }]);
    expect(json(6, { file: 'b.jpg', md5: '9e107d9d372bb6826bd81d3542a419d6', ref: 42 })).toEqual([{ file: 'b.jpg', ...refusal(6, 'ref')[0] }]);
    expect(json(7, { file: 'b.jpg', pdq: HASH, pdqQuality: 'high' })).toEqual([{ file: 'b.jpg', ...refusal(7, 'pdqQuality')[0] }]);
    expect(json(8, { file: 'b.jpg', pdq: 12 })).toEqual([{ file: 'b.jpg', ...refusal(8, 'pdq')[0] }]);
  });

  it('refuses an item with a type but no hash rather than reading it as a hash line', () => {
    expect(json(9, { type: 'md5', md5: '9e107d9d372bb6826bd81d3542a419d6' })).toEqual(refusal(9, 'hash'));
  });
});
