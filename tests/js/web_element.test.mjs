// The <shopframe-suggestions> element's pure logic (js/web/element.mjs): which chip shows when,
// the frequency cap, text, prices and URL sanitising. The DOM side is tested in a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  LEAD, DEFAULTS, isOnScreen, isValidSuggestion, subject, chipLabel, createChipScheduler,
  upsertSuggestion, safeUrl, formatPrice, itemView, readNumber, ShopframeSuggestionsElement,
} from '../../js/web/element.mjs';

const item = { id: 'p1', title: 'Granny Smith', category: 'Fruit/Apple', price: 1.5, currency: 'EUR', url: 'https://shop.example/p1', image: '/img/p1.jpg', score: 0.9 };
function sug(key, from, to, confidence = 0.8, extra = {}) {
  return { key, kind: 'item', id: key, title: `Title ${key}`, from, to, confidence, similar: [item], box: null, ...extra };
}
const keyAt = (sched, list, t) => sched.select(list, t)?.key ?? null;

test('the module imports in node without defining the element', () => {
  assert.equal(typeof ShopframeSuggestionsElement, 'function');
  assert.equal(typeof customElements, 'undefined');
  assert.deepEqual(ShopframeSuggestionsElement.observedAttributes, ['for', 'hold', 'max-per-minute', 'min-gap', 'min-confidence']);
});

test('showing window is from - 0.25 .. to + hold', () => {
  const s = sug('a', 10, 12);
  assert.equal(LEAD, 0.25);
  assert.equal(DEFAULTS.hold, 1.5);
  assert.equal(isOnScreen(s, 9.74), false);
  assert.equal(isOnScreen(s, 9.75), true);
  assert.equal(isOnScreen(s, 11), true);
  assert.equal(isOnScreen(s, 13.5), true);
  assert.equal(isOnScreen(s, 13.51), false);
  assert.equal(isOnScreen(s, 12.4, 0.3), false);

  const sched = createChipScheduler();
  assert.equal(keyAt(sched, [s], 9.7), null);
  assert.equal(keyAt(sched, [s], 9.8), 'a');
  assert.equal(keyAt(sched, [s], 13.4), 'a');
  assert.equal(keyAt(sched, [s], 13.6), null);

  const short = createChipScheduler({ hold: 0 });
  assert.equal(keyAt(short, [s], 12), 'a');
  assert.equal(keyAt(short, [s], 12.1), null);
});

test('a longer range from an update (same key) keeps the chip', () => {
  const sched = createChipScheduler();
  const store = new Map();
  upsertSuggestion(store, sug('a', 10, 11));
  assert.equal(keyAt(sched, [...store.values()], 12), 'a');
  upsertSuggestion(store, sug('a', 10, 20));
  assert.equal(store.size, 1);
  assert.equal(keyAt(sched, [...store.values()], 18), 'a');
  assert.equal(sched.shown.size, 1);
});

test('the highest confidence on screen wins; the chip showing keeps its place while on screen', () => {
  const low = sug('low', 0, 10, 0.5), high = sug('high', 0, 10, 0.9);
  assert.equal(keyAt(createChipScheduler(), [low, high], 1), 'high');
  assert.equal(keyAt(createChipScheduler(), [high, low], 1), 'high');
  // Equal confidence: the earlier range.
  assert.equal(keyAt(createChipScheduler(), [sug('late', 2, 9), sug('early', 1, 9)], 3), 'early');

  const sched = createChipScheduler();
  const longHigh = sug('high', 0, 30, 0.9);
  assert.equal(keyAt(sched, [low], 1), 'low');
  // A better one arriving mid-range does not swap the chip: that would read as an advert.
  assert.equal(keyAt(sched, [low, longHigh], 2), 'low');
  assert.equal(keyAt(sched, [low, longHigh], 11.4), 'low');
  // Once `low` is gone (seen at 11.75), `high` waits for the gap (4 s).
  assert.equal(keyAt(sched, [low, longHigh], 11.75), null);
  assert.equal(keyAt(sched, [low, longHigh], 15.7), null);
  assert.equal(keyAt(sched, [low, longHigh], 15.75), 'high');
  // Off screen, nothing shows, however confident.
  assert.equal(keyAt(createChipScheduler(), [sug('x', 5, 6, 1)], 20), null);
});

test('min-gap: a different key waits min-gap seconds of video time after a chip disappears', () => {
  const a = sug('a', 0, 2), b = sug('b', 3, 20);
  const sched = createChipScheduler({ minGap: 4, hold: 0 });
  assert.equal(keyAt(sched, [a, b], 1), 'a');
  assert.equal(keyAt(sched, [a, b], 2.5), null);   // a disappears at 2.5
  assert.equal(keyAt(sched, [a, b], 6.4), null);
  assert.equal(keyAt(sched, [a, b], 6.5), 'b');

  // The same key may come straight back (e.g. its range was extended after the hold ran out).
  const again = createChipScheduler({ minGap: 4, hold: 0 });
  assert.equal(keyAt(again, [sug('a', 0, 2)], 1), 'a');
  assert.equal(keyAt(again, [sug('a', 0, 2)], 2.2), null);
  assert.equal(keyAt(again, [sug('a', 0, 5)], 2.4), 'a');

  // min-gap 0: back to back.
  const none = createChipScheduler({ minGap: 0, hold: 0 });
  assert.equal(keyAt(none, [a, b], 1), 'a');
  assert.equal(keyAt(none, [a, b], 3), 'b');
});

test('max-per-minute: at most N distinct keys appear in any 60 s of video time', () => {
  // Six products, each on screen 4 s, 10 s apart: default cap 3, gap 4.
  const list = [0, 1, 2, 3, 4, 5].map((i) => sug(`k${i}`, i * 10, i * 10 + 4));
  const sched = createChipScheduler({ hold: 0 });
  const seen = [];
  for (let t = 0; t <= 130; t += 0.25) {
    const k = keyAt(sched, list, t);
    if (k && seen.at(-1) !== k) seen.push(k);
  }
  // k3 at 30 and k4 at 40 would make four within 60 s; k5 at 50 too. Nothing else is on screen after.
  assert.deepEqual(seen, ['k0', 'k1', 'k2']);
  assert.deepEqual([...sched.shown.values()], [0, 10 - LEAD, 20 - LEAD]); // first sample in each window

  // Once the window has moved on, new keys are allowed again.
  const later = [...list, sug('k6', 60, 64), sug('k7', 70, 74)];
  const s2 = createChipScheduler({ hold: 0 });
  const seen2 = [];
  for (let t = 0; t <= 80; t += 0.25) {
    const k = keyAt(s2, later, t);
    if (k && seen2.at(-1) !== k) seen2.push(k);
  }
  // k6 is on screen from 59.75 but 0, 9.75, 19.75, 59.75 would be four in [0, 60): it waits until 60.
  assert.deepEqual(seen2, ['k0', 'k1', 'k2', 'k6', 'k7']);
  assert.deepEqual([...s2.shown.values()].slice(3), [60, 70 - LEAD]);

  // max-per-minute 0 shows nothing; 1 allows one per minute.
  assert.equal(keyAt(createChipScheduler({ maxPerMinute: 0 }), list, 1), null);
  const one = createChipScheduler({ maxPerMinute: 1, hold: 0 });
  assert.equal(keyAt(one, list, 1), 'k0');
  assert.equal(keyAt(one, list, 11), null);
});

test('the cap counts windows around a seek, not just the past', () => {
  // Chips appeared at 100, 110, 120; seeking back to 70 and a new key there would make four in 70..130.
  const list = [sug('a', 100, 102), sug('b', 110, 112), sug('c', 120, 122), sug('d', 70, 75), sug('e', 30, 35)];
  const sched = createChipScheduler({ hold: 0, minGap: 0 });
  for (const t of [100, 103, 110, 113, 120, 123]) keyAt(sched, list, t);
  assert.deepEqual([...sched.shown.keys()], ['a', 'b', 'c']);
  assert.equal(keyAt(sched, list, 71), null);
  // Far enough back, the window is empty again.
  assert.equal(keyAt(sched, list, 31), 'e');
});

test('a key shown before reappears after seeking back without counting again', () => {
  const list = [0, 1, 2].map((i) => sug(`k${i}`, i * 10, i * 10 + 4));
  const sched = createChipScheduler({ hold: 0, maxPerMinute: 3 });
  for (let t = 0; t <= 30; t += 0.5) keyAt(sched, list, t);
  assert.deepEqual([...sched.shown.keys()], ['k0', 'k1', 'k2']);
  // Seek back into k1's range, after the gap: it shows again, the cap is full but it is not new.
  assert.equal(keyAt(sched, list, 11), 'k1');
  assert.equal(sched.shown.size, 3);
  assert.equal(sched.shown.get('k1'), 10); // first appearance kept
  // A new key in the same minute is still refused.
  assert.equal(keyAt(sched, [...list, sug('new', 11, 30)], 15), null);
  assert.equal(keyAt(sched, [...list, sug('new', 11, 30)], 19.5), null);
});

test('min-confidence: below it never shows, even when alone', () => {
  const weak = sug('weak', 0, 10, 0.4), strong = sug('strong', 0, 10, 0.7);
  const sched = createChipScheduler({ minConfidence: 0.5 });
  assert.equal(keyAt(sched, [weak], 1), null);
  assert.equal(keyAt(sched, [weak, strong], 1), 'strong');
  assert.equal(keyAt(createChipScheduler({ minConfidence: 0.5 }), [sug('edge', 0, 10, 0.5)], 1), 'edge');
  assert.equal(keyAt(createChipScheduler(), [weak], 1), 'weak'); // default 0
  // configure() changes it in place (attributes change on a live element).
  const live = createChipScheduler();
  live.configure({ minConfidence: 0.9, maxPerMinute: NaN });
  assert.equal(live.options.minConfidence, 0.9);
  assert.equal(live.options.maxPerMinute, 3);
  assert.equal(keyAt(live, [strong], 1), null);
});

test('malformed suggestions are never shown; no time, no chip; reset forgets', () => {
  const ok = sug('ok', 0, 10);
  assert.equal(isValidSuggestion(ok), true);
  for (const bad of [null, 'x', { ...ok, key: '' }, { ...ok, kind: 'ad' }, { ...ok, from: NaN }, { ...ok, to: -1 },
    { ...ok, confidence: 1.5 }, { ...ok, confidence: undefined }, { ...ok, similar: [] }, { ...ok, similar: null }]) {
    assert.equal(isValidSuggestion(bad), false, JSON.stringify(bad));
    assert.equal(keyAt(createChipScheduler(), [bad], 1), null);
  }
  const store = new Map();
  assert.equal(upsertSuggestion(store, { ...ok, kind: 'ad' }), false);
  assert.equal(store.size, 0);

  const sched = createChipScheduler();
  assert.equal(keyAt(sched, [ok], NaN), null);
  assert.equal(keyAt(sched, [ok], 1), 'ok');
  sched.reset();
  assert.equal(sched.current, null);
  assert.equal(sched.shown.size, 0);
});

test('chip text: "Similar: <last segment>" for a category, the title for an item', () => {
  const cat = sug('c', 0, 1, 0.8, { kind: 'category', id: 'Fruit/Apple', title: 'more like this: Apple' });
  assert.equal(chipLabel(cat), 'Similar: Apple');
  assert.equal(subject(cat), 'Apple');
  assert.equal(chipLabel({ ...cat, id: 'Fruit' }), 'Similar: Fruit');
  assert.equal(chipLabel({ ...cat, id: 'Fruit/Apple/' }), 'Similar: Apple');
  assert.equal(chipLabel(sug('i', 0, 1, 0.8, { title: 'Granny Smith' })), 'Granny Smith');
  assert.equal(chipLabel(sug('i', 0, 1, 0.8, { id: 'sku-9', title: '  ' })), 'sku-9');
});

test('prices: Intl currency format, plain number for empty or bad currency, none without a price', () => {
  assert.equal(formatPrice(1234.5, 'USD', 'en-US'), '$1,234.50');
  assert.equal(formatPrice(1234.5, 'eur', 'de-DE'), new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(1234.5));
  assert.match(formatPrice(1234.5, 'EUR', 'de-DE'), /1\.234,50\s€/);
  assert.equal(formatPrice(1000, 'JPY', 'ja-JP'), new Intl.NumberFormat('ja-JP', { style: 'currency', currency: 'JPY' }).format(1000));
  // Empty or invalid currency: the number alone, never a wrong symbol, never a throw.
  assert.equal(formatPrice(3, '', 'en-US'), '3.00');
  assert.equal(formatPrice(3, 'EURO', 'en-US'), '3.00');
  assert.equal(formatPrice(3, '€', 'en-US'), '3.00');
  assert.equal(formatPrice(3, null, 'en-US'), '3.00');
  assert.equal(formatPrice(1234.5, 'dollars', 'de-DE'), '1.234,50');
  // A bad locale falls back to the runtime's rather than throwing.
  assert.equal(formatPrice(2, 'USD', 'not a locale!'), new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' }).format(2));
  assert.equal(formatPrice(2, '', 'not a locale!'), new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(2));
  for (const p of [null, undefined, NaN, Infinity, '3.00']) assert.equal(formatPrice(p, 'USD', 'en-US'), '');
  assert.equal(formatPrice(0, 'USD', 'en-US'), '$0.00');
});

test('URLs: only http(s) and relative ones survive', () => {
  for (const u of ['https://shop.example/p?q=1', 'http://shop.example/', '/p/1', 'p/1', '?q=1', '//cdn.example/x.jpg', ' https://a.example/ '])
    assert.equal(safeUrl(u), u.trim(), u);
  for (const u of ['javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
    'java\nscript:alert(1)', 'data:image/png;base64,AAAA', 'vbscript:x', 'file:///etc/passwd', 'blob:https://a/x',
    'mailto:a@b.example', 'http://[bad', '', '   ', null, undefined, 42, {}])
    assert.equal(safeUrl(u), '', String(u));
});

test('item rows: text, sanitised link and image, formatted price', () => {
  assert.deepEqual(itemView(item, 'en-US'), { title: 'Granny Smith', price: '€1.50', href: 'https://shop.example/p1', src: '/img/p1.jpg' });
  assert.deepEqual(itemView({ id: 'x', title: '<img src=x onerror=alert(1)>', price: null, currency: '', url: 'javascript:alert(1)', image: 'data:x' }, 'en-US'),
    { title: '<img src=x onerror=alert(1)>', price: '', href: '', src: '' });
  assert.equal(itemView({ id: 'sku-1', title: '' }, 'en-US').title, 'sku-1');
  assert.equal(itemView({}, 'en-US').title, '');
});

test('numeric attributes: defaults for missing, junk or negative values', () => {
  assert.equal(readNumber(null, 1.5), 1.5);
  assert.equal(readNumber('', 3), 3);
  assert.equal(readNumber('  ', 3), 3);
  assert.equal(readNumber('2.5', 1.5), 2.5);
  assert.equal(readNumber('0', 4), 0);
  assert.equal(readNumber('abc', 4), 4);
  assert.equal(readNumber('-1', 4), 4);
  assert.equal(readNumber('Infinity', 4), 4);
});
