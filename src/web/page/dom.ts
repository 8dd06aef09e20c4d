/**
 * Building the page's DOM. Text always goes in as text nodes, never as markup, so whatever a plan or a
 * log says is shown, not run.
 */
export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
}

/** Replaces an element's children, leaving out the empty ones. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** Only web addresses and the page's own paths become links. */
export function safeHref(url: string): string {
  return /^https?:\/\//i.test(url) || url.startsWith('/') ? url : '#';
}

/** A link into another site (Temporal's Web UI), opened in a new tab. */
export function external(href: string, text: string, title?: string): HTMLAnchorElement {
  return h('a', { href: safeHref(href), target: '_blank', rel: 'noopener noreferrer', class: 'external', title }, text);
}

export function badge(state: string, text = state.replace('_', ' ')): HTMLSpanElement {
  return h('span', { class: 'badge', 'data-state': state }, text);
}

/** `3m ago`, `in 20s`; the exact time is in the element's title. */
export function when(iso: string | null | undefined, now = Date.now()): HTMLElement | string {
  if (!iso) return '';
  const t = Date.parse(iso);
  const seconds = Math.round((now - t) / 1000);
  const abs = Math.abs(seconds);
  const amount = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.floor(abs / 60)}m` : abs < 86400 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 86400)}d`;
  return h('time', { datetime: iso, title: new Date(t).toLocaleString() }, seconds >= 0 ? `${amount} ago` : `in ${amount}`);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
