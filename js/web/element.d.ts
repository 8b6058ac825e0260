// Type declarations for the <shopframe-suggestions> element (js/web/element.mjs).

/** One similar item listed in the panel. */
export interface SimilarItem {
  id: string;
  title: string;
  category: string;
  price: number | null;
  /** ISO 4217 code, or '' (the price then shows without a currency). */
  currency: string;
  /** Link target; only http(s) or relative URLs are used, others dropped. May be ''. */
  url: string;
  /** Thumbnail; only http(s) or relative URLs are used. May be ''. */
  image: string;
  score: number;
}

/** A suggestion, as the SDK puts in a 'shopframe-suggestion' event's detail. */
export interface Suggestion {
  /** Stable per suggestion; an update (longer time range) reuses it. */
  key: string;
  kind: 'item' | 'category';
  /** Product id, or category path such as 'Fruit/Apple'. */
  id: string;
  title: string;
  /** Seconds in the video. */
  from: number;
  to: number;
  /** 0..1 */
  confidence: number;
  similar: SimilarItem[];
  /** Frame pixels [x0, y0, x1, y1]; not used by the element. */
  box: [number, number, number, number] | null;
}

/** Something that knows suggestions and dispatches 'shopframe-suggestion' (and 'shopframe-detach') events. */
export interface SuggestionSession extends EventTarget {
  readonly suggestions?: readonly Suggestion[];
}

export interface ChipSchedulerOptions {
  /** Seconds a chip stays after its range ends (default 1.5). */
  hold?: number;
  /** Distinct keys that may appear per 60 s of video time (default 3). */
  maxPerMinute?: number;
  /** Video seconds between a chip disappearing and a different key's appearing (default 4). */
  minGap?: number;
  /** Suggestions below this confidence never show (default 0). */
  minConfidence?: number;
}

export interface ChipScheduler {
  /** The suggestion whose chip shows at video time `t`, or null; records what appears and disappears. */
  select(suggestions: readonly Suggestion[], t: number): Suggestion | null;
  /** Changes options in place; non-finite values are ignored. */
  configure(options: ChipSchedulerOptions): void;
  /** Forgets every chip shown. */
  reset(): void;
  readonly options: Required<ChipSchedulerOptions>;
  /** Key of the chip showing, or null. */
  readonly current: string | null;
  /** Keys that have appeared, with the video time each first did. */
  readonly shown: Map<string, number>;
}

/** Seconds before `from` a suggestion may show (0.25). */
export const LEAD: number;
export const DEFAULTS: Readonly<Required<ChipSchedulerOptions>>;

export function createChipScheduler(options?: ChipSchedulerOptions): ChipScheduler;
/** from - LEAD <= t <= to + hold */
export function isOnScreen(s: Pick<Suggestion, 'from' | 'to'>, t: number, hold?: number): boolean;
/** Well-formed, confidence in 0..1, and at least one similar item. */
export function isValidSuggestion(s: unknown): s is Suggestion;
/** Adds or replaces (same key); false for a malformed suggestion. */
export function upsertSuggestion(map: Map<string, Suggestion>, s: unknown): boolean;
/** A category's last path segment, else the item's title (or id). */
export function subject(s: Suggestion): string;
/** "Similar: Apple" for a category, the title for an item. */
export function chipLabel(s: Suggestion): string;
/** `url` trimmed if http(s) or relative, else ''. */
export function safeUrl(url: unknown): string;
/** Intl currency format; the bare number (2 decimals) for an empty or invalid currency; '' without a price. */
export function formatPrice(price: unknown, currency: unknown, locale?: string): string;
export function itemView(item: Partial<SimilarItem>, locale?: string): { title: string; price: string; href: string; src: string };
export function readNumber(value: string | null | undefined, fallback: number, min?: number): number;

export interface ShopframeItemClickDetail {
  suggestion: Suggestion;
  item: SimilarItem;
}

export interface ShopframeSuggestionsEventMap extends HTMLElementEventMap {
  /** A chip appeared (also when a key reappears). */
  'shopframe-chip-shown': CustomEvent<Suggestion>;
  /** A link in the panel was activated. */
  'shopframe-item-click': CustomEvent<ShopframeItemClickDetail>;
}

/**
 * `<shopframe-suggestions for="video-id">`. Attributes: `for`, `hold` (1.5), `max-per-minute` (3),
 * `min-gap` (4), `min-confidence` (0). Parts: chip, panel, list, item, image, title, price.
 * CSS: `--shopframe-chip-height` (2.5rem), `--shopframe-panel-z` (10).
 */
export class ShopframeSuggestionsElement extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The session whose suggestions to show; assigning loads its `suggestions`. */
  session: SuggestionSession | null;
  /** The video followed: set here, else the element whose id is `for` in this element's root. */
  get video(): HTMLVideoElement | null;
  set video(v: HTMLVideoElement | null);
  /** The valid suggestions known. */
  readonly suggestions: Suggestion[];
  /** The suggestion whose chip shows, or null. */
  readonly current: Suggestion | null;
  /** Re-resolves `for` and re-evaluates what shows now. */
  refresh(): void;

  addEventListener<K extends keyof ShopframeSuggestionsEventMap>(type: K,
    listener: (this: ShopframeSuggestionsElement, ev: ShopframeSuggestionsEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof ShopframeSuggestionsEventMap>(type: K,
    listener: (this: ShopframeSuggestionsElement, ev: ShopframeSuggestionsEventMap[K]) => any,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'shopframe-suggestions': ShopframeSuggestionsElement;
  }
  interface HTMLVideoElementEventMap {
    'shopframe-suggestion': CustomEvent<Suggestion>;
    'shopframe-detach': CustomEvent<undefined>;
  }
}
