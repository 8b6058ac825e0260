// <shopframe-suggestions for="video-id">: shows the SDK's suggestions for a playing <video> as
// a small chip that opens a panel of similar items. Dependency-free; plain Web Components.
//
// Everything that decides (which suggestion, when, how often, what text, which URLs) is in the
// exported pure functions below, so it is tested in node without a DOM; the element only binds
// events and DOM. The module imports in node: the element is defined only where custom elements exist.

/** A suggestion may show this many seconds before its range starts (sampling makes `from` late). */
export const LEAD = 0.25;

export const DEFAULTS = Object.freeze({ hold: 1.5, maxPerMinute: 3, minGap: 4, minConfidence: 0 });

/** True when `s` is on screen at video time `t`: from - LEAD <= t <= to + hold. */
export function isOnScreen(s, t, hold = DEFAULTS.hold) {
  return t >= s.from - LEAD && t <= s.to + hold;
}

/**
 * True for a suggestion the element may show. Anything malformed is dropped rather than
 * guessed at, and so is one with no similar items: a chip that opens an empty panel is noise.
 */
export function isValidSuggestion(s) {
  return !!s && typeof s === 'object' && typeof s.key === 'string' && s.key !== ''
    && (s.kind === 'item' || s.kind === 'category') && typeof s.id === 'string'
    && Number.isFinite(s.from) && Number.isFinite(s.to) && s.to >= s.from
    && Number.isFinite(s.confidence) && s.confidence >= 0 && s.confidence <= 1
    && Array.isArray(s.similar) && s.similar.some((i) => i && typeof i === 'object');
}

/** What the suggestion is about: a category's last path segment, else the item's title. */
export function subject(s) {
  if (s.kind === 'category') return s.id.split('/').filter(Boolean).pop() || s.id;
  return (typeof s.title === 'string' && s.title.trim()) || s.id;
}

/** The chip's text: "Similar: Apple" for a category, the title for an item. */
export function chipLabel(s) {
  return s.kind === 'category' ? `Similar: ${subject(s)}` : subject(s);
}

/**
 * Decides which suggestion has the chip at video time `t`, with a frequency cap so a video
 * never turns into an advert. All times are video seconds, so pausing or seeking never
 * "earns" more chips the way wall time would.
 *
 * - Among on-screen suggestions with confidence >= minConfidence the highest confidence wins
 *   (ties: the earlier `from`), but a chip already showing keeps its place while its suggestion
 *   stays on screen: swapping chips mid-range is what reads as an advert.
 * - maxPerMinute: no 60-second stretch of video time sees more than this many distinct keys
 *   appear. A key shown before (e.g. seeking back) may reappear without counting again.
 * - minGap: after a chip disappears, a different key waits this long (distance in video
 *   time, so a seek is measured like playback).
 */
export function createChipScheduler(options = {}) {
  const opts = { ...DEFAULTS };
  let shownAt = new Map();   // key -> video time it first appeared
  let current = null;        // key of the chip showing
  let lastKey = null;        // key of the last chip that disappeared
  let hiddenAt = null;       // ... and when it disappeared

  function configure(o = {}) {
    for (const k of Object.keys(DEFAULTS)) if (Number.isFinite(o[k])) opts[k] = o[k];
  }

  // Would a new key appearing at t keep every 60 s window holding t within maxPerMinute?
  // The fullest window containing t starts at one of the appearance times, so trying those suffices.
  function fitsCap(t) {
    const times = [...shownAt.values()].filter((s) => Math.abs(s - t) < 60);
    times.push(t);
    return times.every((a) => a > t || times.filter((s) => s >= a && s < a + 60).length <= opts.maxPerMinute);
  }

  function allowed(key, t) {
    if (key !== lastKey && hiddenAt !== null && Math.abs(t - hiddenAt) < opts.minGap) return false;
    return shownAt.has(key) || fitsCap(t);
  }

  function select(suggestions, t) {
    if (!Number.isFinite(t)) return null;
    const on = (suggestions ?? []).filter((s) => isValidSuggestion(s)
      && s.confidence >= opts.minConfidence && isOnScreen(s, t, opts.hold));
    if (current !== null) {
      const still = on.find((s) => s.key === current);
      if (still) return still;
      lastKey = current;
      hiddenAt = t;
      current = null;
    }
    on.sort((a, b) => b.confidence - a.confidence || a.from - b.from);
    const pick = on.find((s) => allowed(s.key, t)) ?? null;
    if (pick) {
      current = pick.key;
      if (!shownAt.has(pick.key)) shownAt.set(pick.key, t);
    }
    return pick;
  }

  function reset() {
    shownAt = new Map();
    current = lastKey = hiddenAt = null;
  }

  configure(options);
  return {
    select, reset, configure,
    get options() { return { ...opts }; },
    get current() { return current; },
    /** Keys that have appeared, with the video time each first did. */
    get shown() { return new Map(shownAt); },
  };
}

/** Adds or replaces (same key) a suggestion in a key -> suggestion map; false if it is malformed. */
export function upsertSuggestion(map, s) {
  if (!isValidSuggestion(s)) return false;
  map.set(s.key, s);
  return true;
}

/**
 * `url` if it is http(s) or relative, else ''. Parsed as the browser would (which strips tabs
 * and newlines, so "java\tscript:" is caught), against an https base so relative URLs pass.
 */
export function safeUrl(url) {
  if (typeof url !== 'string' || url.trim() === '') return '';
  try {
    const { protocol } = new URL(url, 'https://base.invalid/');
    return protocol === 'https:' || protocol === 'http:' ? url.trim() : '';
  } catch {
    return '';
  }
}

function numberFormat(locale, options) {
  try {
    return new Intl.NumberFormat(locale || undefined, options);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return null;
  }
}

/**
 * A price for display: Intl currency format, or with an empty or invalid currency the plain
 * number with two decimals (a wrong symbol would be worse than none). '' when there is no price.
 * A bad locale falls back to the runtime's.
 */
export function formatPrice(price, currency, locale) {
  if (typeof price !== 'number' || !Number.isFinite(price)) return '';
  const code = typeof currency === 'string' ? currency.trim().toUpperCase() : '';
  const withCurrency = /^[A-Z]{3}$/.test(code) && (numberFormat(locale, { style: 'currency', currency: code })
    ?? numberFormat(undefined, { style: 'currency', currency: code }));
  if (withCurrency) return withCurrency.format(price);
  const plain = numberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    ?? numberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return plain.format(price);
}

/** What a panel row shows for one similar item: text, and links/images only when safe. */
export function itemView(item, locale) {
  const title = typeof item?.title === 'string' && item.title.trim() ? item.title.trim() : String(item?.id ?? '');
  return {
    title,
    price: formatPrice(item?.price, item?.currency, locale),
    href: safeUrl(item?.url),
    src: safeUrl(item?.image),
  };
}

/** A numeric attribute's value, or `fallback` when it is missing, not a number, or below `min`. */
export function readNumber(value, fallback, min = 0) {
  if (value === null || value === undefined || String(value).trim() === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) && n >= min ? n : fallback;
}

// ---------------------------------------------------------------------------------------------
// The element.

const IMAGE_SIZE = 56; // px; explicit width/height so loading images never move anything

const STYLE = `
:host { display: block; position: relative; height: var(--shopframe-chip-height, 2.5rem); font: inherit; }
:host([hidden]) { display: none; }
.row { height: 100%; display: flex; align-items: center; overflow: hidden; }
[part=chip] { font: inherit; max-width: 100%; height: calc(100% - 0.5rem); padding: 0 0.9rem;
  border: 1px solid currentColor; border-radius: 999px; background: Canvas; color: CanvasText; cursor: pointer;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
[part=chip][hidden], [part=panel][hidden] { display: none; }
[part=chip]:focus-visible, a:focus-visible, .close:focus-visible { outline: 2px solid Highlight; outline-offset: 2px; }
[part=panel] { position: absolute; top: 100%; left: 0; z-index: var(--shopframe-panel-z, 10);
  width: min(24rem, 100vw - 1rem); max-height: 60vh; overflow: auto; box-sizing: border-box; padding: 0.5rem;
  background: Canvas; color: CanvasText; border: 1px solid GrayText; border-radius: 0.5rem;
  box-shadow: 0 4px 16px rgb(0 0 0 / 0.25); }
.head { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem; margin: 0 0 0.5rem; }
.head h2 { font-size: 1em; margin: 0; }
.close { font: inherit; background: none; border: 0; color: inherit; cursor: pointer; padding: 0.25rem 0.5rem; }
ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.5rem; }
a, .noLink { display: grid; grid-template-columns: ${IMAGE_SIZE}px 1fr; gap: 0 0.75rem; align-items: center;
  color: inherit; text-decoration: none; }
a:hover .title { text-decoration: underline; }
img, .noImage { width: ${IMAGE_SIZE}px; height: ${IMAGE_SIZE}px; object-fit: cover; border-radius: 0.25rem;
  background: color-mix(in srgb, CanvasText 10%, Canvas); grid-row: span 2; }
.price { font-variant-numeric: tabular-nums; opacity: 0.8; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
@media (prefers-reduced-motion: no-preference) {
  [part=chip] { animation: shopframe-in 150ms ease-out; }
  @keyframes shopframe-in { from { opacity: 0; } }
}
`;

const VIDEO_EVENTS = ['timeupdate', 'seeked', 'play', 'playing', 'pause', 'ended'];

function el(doc, tag, attrs = {}, text) {
  const e = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const Base = typeof HTMLElement !== 'undefined' ? HTMLElement : class {};

export class ShopframeSuggestionsElement extends Base {
  static observedAttributes = ['for', 'hold', 'max-per-minute', 'min-gap', 'min-confidence'];

  #store = new Map();            // key -> suggestion
  #scheduler = createChipScheduler();
  #announced = new Set();        // keys announced to assistive tech (once each)
  #current = null;               // the suggestion whose chip shows
  #open = false;
  #video = null;                 // the bound <video>
  #lastVideo = null;             // the video the current state belongs to
  #explicitVideo = null;         // set through the `video` property (wins over `for`)
  #session = null;
  #raf = 0;
  #els;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const doc = this.ownerDocument;
    const chip = el(doc, 'button', { part: 'chip', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'panel', hidden: '' });
    const panel = el(doc, 'div', { part: 'panel', id: 'panel', role: 'dialog', 'aria-label': 'Similar items', hidden: '' });
    const head = el(doc, 'div', { class: 'head' });
    const heading = el(doc, 'h2');
    const close = el(doc, 'button', { class: 'close', type: 'button', 'aria-label': 'Close' }, '\u00d7');
    const list = el(doc, 'ul', { part: 'list' });
    const live = el(doc, 'div', { class: 'sr', 'aria-live': 'polite' });
    head.append(heading, close);
    panel.append(head, list);
    const row = el(doc, 'div', { class: 'row' });
    row.append(chip);
    root.append(el(doc, 'style', {}, STYLE), row, panel, live);
    this.#els = { chip, panel, heading, list, live };

    // A native <button> already toggles on Enter and Space.
    chip.addEventListener('click', () => this.#setOpen(!this.#open));
    chip.addEventListener('blur', () => this.#update());
    close.addEventListener('click', () => this.#setOpen(false, true));
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.#open) {
        e.stopPropagation();
        this.#setOpen(false, true);
      }
    });
    const clicked = (e) => {
      if (e.type === 'auxclick' && e.button !== 1) return;
      const a = e.target.closest?.('a');
      const index = a ? Number(a.dataset.index) : -1;
      const suggestion = this.#current;
      if (index >= 0 && suggestion) {
        this.dispatchEvent(new CustomEvent('shopframe-item-click', { detail: { suggestion, item: suggestion.similar[index] } }));
      }
    };
    list.addEventListener('click', clicked);
    list.addEventListener('auxclick', clicked);
  }

  // Handlers as fields so add/removeEventListener see the same functions.
  #onSuggestion = (e) => {
    if (upsertSuggestion(this.#store, e.detail)) this.#update();
  };
  #onDetach = () => this.#clear();
  #onVideoEvent = (e) => {
    if (e.type === 'play' || e.type === 'playing') this.#startLoop();
    this.#update();
  };
  #onOutsidePointer = (e) => {
    if (!e.composedPath().includes(this)) this.#setOpen(false);
  };

  connectedCallback() {
    this.#bindVideo();
    // A `for` target later in the document is not parsed yet when this connects.
    if (!this.#video && this.ownerDocument.readyState === 'loading') {
      this.ownerDocument.addEventListener('DOMContentLoaded', () => this.#bindVideo(), { once: true });
    }
  }

  // Unbinds but keeps the state, so moving the element in the DOM loses nothing.
  disconnectedCallback() {
    this.#setOpen(false);
    this.#bindVideo(null);
  }

  attributeChangedCallback(name) {
    if (name === 'for') {
      if (this.isConnected) this.#bindVideo();
      return;
    }
    this.#scheduler.configure({
      hold: readNumber(this.getAttribute('hold'), DEFAULTS.hold),
      maxPerMinute: readNumber(this.getAttribute('max-per-minute'), DEFAULTS.maxPerMinute),
      minGap: readNumber(this.getAttribute('min-gap'), DEFAULTS.minGap),
      minConfidence: readNumber(this.getAttribute('min-confidence'), DEFAULTS.minConfidence),
    });
    this.#update();
  }

  /** The <video> followed: the one set here, else the element whose id is `for` in this element's root. */
  get video() { return this.#video; }
  set video(v) {
    this.#explicitVideo = v ?? null;
    if (this.isConnected) this.#bindVideo();
  }

  /** An EventTarget dispatching 'shopframe-suggestion' events, with a `suggestions` array of those known. */
  get session() { return this.#session; }
  set session(s) {
    if (s === this.#session) return;
    this.#session?.removeEventListener('shopframe-suggestion', this.#onSuggestion);
    this.#session?.removeEventListener('shopframe-detach', this.#onDetach);
    this.#session = s ?? null;
    // Another session's suggestions are not this one's; the cap state stays with the video.
    this.#store.clear();
    if (s) {
      s.addEventListener('shopframe-suggestion', this.#onSuggestion);
      s.addEventListener('shopframe-detach', this.#onDetach);
      for (const x of s.suggestions ?? []) upsertSuggestion(this.#store, x);
    }
    this.#update();
  }

  /** The valid suggestions known, in arrival order. */
  get suggestions() { return [...this.#store.values()]; }

  /** The suggestion whose chip shows, or null. */
  get current() { return this.#current; }

  /** Re-resolves `for` and re-evaluates what to show now. */
  refresh() {
    if (this.isConnected) this.#bindVideo();
    this.#update();
  }

  #bindVideo(next = this.#explicitVideo ?? this.#resolveFor()) {
    if (next === this.#video) return;
    for (const type of VIDEO_EVENTS) this.#video?.removeEventListener(type, this.#onVideoEvent);
    this.#video?.removeEventListener('shopframe-suggestion', this.#onSuggestion);
    this.#video?.removeEventListener('shopframe-detach', this.#onDetach);
    this.#stopLoop();
    this.#video = next;
    if (!next) return this.#update();
    if (next !== this.#lastVideo) {
      // A different video: nothing of the old one applies, save what the session knows.
      if (this.#lastVideo) {
        this.#clear();
        for (const x of this.#session?.suggestions ?? []) upsertSuggestion(this.#store, x);
      }
      this.#lastVideo = next;
    }
    for (const type of VIDEO_EVENTS) next.addEventListener(type, this.#onVideoEvent);
    next.addEventListener('shopframe-suggestion', this.#onSuggestion);
    next.addEventListener('shopframe-detach', this.#onDetach);
    if (!next.paused) this.#startLoop();
    this.#update();
  }

  #resolveFor() {
    const id = this.getAttribute('for');
    const root = this.getRootNode();
    return (id && typeof root.getElementById === 'function' && root.getElementById(id)) || null;
  }

  // timeupdate fires ~4 times a second; frames keep chips within a frame of their range.
  #startLoop() {
    if (this.#raf) return;
    const tick = () => {
      this.#raf = 0;
      this.#update();
      const v = this.#video;
      if (v && !v.paused && !v.ended && this.isConnected) this.#raf = requestAnimationFrame(tick);
    };
    this.#raf = requestAnimationFrame(tick);
  }

  #stopLoop() {
    if (this.#raf) cancelAnimationFrame(this.#raf);
    this.#raf = 0;
  }

  #clear() {
    this.#store.clear();
    this.#scheduler.reset();
    this.#announced.clear();
    this.#setOpen(false);
    this.#show(null);
  }

  #update() {
    if (!this.#els) return;
    // While the panel is open or the chip has focus the chip stays: never pull content from
    // under the user. The scheduler is not asked, so it sees the chip go when it really goes.
    if (this.#open || (this.#current && this.shadowRoot.activeElement === this.#els.chip)) return;
    const t = this.#video ? this.#video.currentTime : NaN;
    this.#show(this.#scheduler.select(this.suggestions, t));
  }

  #show(s) {
    const { chip, live } = this.#els;
    const previous = this.#current;
    this.#current = s;
    if (!s) {
      chip.hidden = true;
      return;
    }
    const label = chipLabel(s); // a same-key update may change the title
    if (chip.textContent !== label) chip.textContent = label;
    if (previous?.key === s.key && !chip.hidden) return;
    chip.hidden = false;
    if (!this.#announced.has(s.key)) {
      this.#announced.add(s.key);
      live.textContent = `Similar items available: ${subject(s)}`;
    }
    this.dispatchEvent(new CustomEvent('shopframe-chip-shown', { detail: s }));
  }

  #setOpen(open, focusChip = false) {
    const { chip, panel } = this.#els;
    open = open && !!this.#current;
    if (open === this.#open) {
      if (focusChip && !chip.hidden) chip.focus();
      return;
    }
    this.#open = open;
    chip.setAttribute('aria-expanded', String(open));
    const doc = this.ownerDocument;
    if (open) {
      this.#renderPanel(this.#current);
      panel.hidden = false;
      doc.addEventListener('pointerdown', this.#onOutsidePointer, true);
      // Non-modal dialog: focus moves in, nothing is trapped.
      (panel.querySelector('a') ?? panel.querySelector('.close')).focus();
    } else {
      panel.hidden = true;
      doc.removeEventListener('pointerdown', this.#onOutsidePointer, true);
      if (focusChip) chip.focus();
      this.#update();
    }
  }

  #locale() {
    return this.closest('[lang]')?.lang || this.ownerDocument.documentElement.lang
      || (typeof navigator !== 'undefined' ? navigator.language : undefined);
  }

  #renderPanel(s) {
    const { panel, heading, list } = this.#els;
    const doc = this.ownerDocument;
    const locale = this.#locale();
    heading.textContent = `Similar items: ${subject(s)}`;
    panel.setAttribute('aria-label', heading.textContent);
    // data-index keeps the position in `similar`, for the click event's detail.
    list.replaceChildren(...s.similar.flatMap((item, index) => {
      if (!item || typeof item !== 'object') return [];
      const v = itemView(item, locale);
      const li = el(doc, 'li', { part: 'item' });
      const row = v.href
        ? el(doc, 'a', { href: v.href, target: '_blank', rel: 'noopener', 'data-index': String(index) })
        : el(doc, 'div', { class: 'noLink' });
      const image = v.src
        ? el(doc, 'img', { src: v.src, alt: v.title, width: String(IMAGE_SIZE), height: String(IMAGE_SIZE), loading: 'lazy', decoding: 'async', part: 'image' })
        : el(doc, 'span', { class: 'noImage', 'aria-hidden': 'true' });
      row.append(image, el(doc, 'span', { class: 'title', part: 'title' }, v.title));
      if (v.price) row.append(el(doc, 'span', { class: 'price', part: 'price' }, v.price));
      li.append(row);
      return li;
    }));
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('shopframe-suggestions')) {
  customElements.define('shopframe-suggestions', ShopframeSuggestionsElement);
}
