/**
 * How `signalbank submit` reads CSV lines: labels per line, separated by `;` or `|`, or by
 * commas inside a quoted cell; a header row is skipped; a broken line is reported by number.
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
});
