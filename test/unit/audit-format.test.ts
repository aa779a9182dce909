// The audit trail's pure encodings (no database): the canonical JSON the hash chain signs, and the
// CSV cells of an export, which a spreadsheet must not run as formulas.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../store/chain.js';
import { csvCell } from '../../store/export.js';

describe('canonical JSON', () => {
  test('sorts keys recursively, drops no values, adds no whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }),
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
    assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}');
    assert.equal(canonicalJson('é"\n'), JSON.stringify('é"\n'));
  });
  test('refuses what JSON cannot carry', () => {
    assert.throws(() => canonicalJson({ n: Number.NaN }));
    assert.throws(() => canonicalJson({ n: 1n }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic));
  });
});

describe('CSV cells', () => {
  test('neutralise formulas and quote where needed', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      assert.equal(csvCell(`${start}x`).replace(/^"/, '')[0], "'");
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('-'), "'-");
    assert.equal(csvCell(-1), '-1');
    assert.equal(csvCell(null), '');
  });
  test('write NUL, terminal escapes and other control characters as visible escapes', () => {
    assert.equal(csvCell('a\u0000b'), 'a\\u0000b');
    assert.equal(csvCell('\u001b[31mAPPROVED\u0007'), '\\u001b[31mAPPROVED\\u0007');
    assert.equal(csvCell('c1 \u009b'), 'c1 \\u009b');
    assert.equal(csvCell('=\u0000'), "'=\\u0000", 'still neutralised as a formula');
    // Tabs and line breaks are text: kept, and quoted where they would break the row.
    assert.equal(csvCell('a\tb'), 'a\tb');
    assert.equal(csvCell('a\nb'), '"a\nb"');
  });
});
