import { fmtTime } from './format';
import { SEVERITY_ICON, STATUS_ICON, word } from './words';

/**
 * DOM building with textContent and attributes only: nothing from the server is ever parsed as
 * HTML (the CSP forbids inline code, and markup in an alert title must stay text).
 */
const SVGNS = 'http://www.w3.org/2000/svg';

type Attr = string | number | boolean | null | undefined;
/** `text` sets textContent, `className` the class; false, null and undefined are left out. */
export type Attrs = Readonly<Record<string, Attr>>;
export type Child = Node | string | number | null | undefined | false;

/** An element the page's HTML must have (page.ts): a missing one is a bug, said loudly. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`status page: #${id} is missing`);
  return e as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, children?: Child | readonly Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'className') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

export function svg(tag: string, attrs?: Readonly<Record<string, string | number>>, children?: readonly Child[]): SVGElement {
  const e = document.createElementNS(SVGNS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}

export function append(e: Node, children: Child | readonly Child[] | undefined): void {
  if (children === undefined || children === null) return;
  const list: readonly Child[] = Array.isArray(children) ? children : [children as Child];
  for (const c of list) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(e: Node): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** A table and its scrolling region are shown together (the region is focusable when shown). */
export function showTable(table: HTMLTableElement, visible: boolean): void {
  table.hidden = !visible;
  const p = table.parentElement;
  if (p !== null && p.classList.contains('scroll')) p.hidden = !visible;
}

/** The first tbody of a table from page.ts, emptied. */
export function emptyBody(table: HTMLTableElement): HTMLTableSectionElement {
  const tb = table.tBodies[0];
  if (tb === undefined) throw new Error(`status page: #${table.id} has no tbody`);
  clear(tb);
  return tb;
}

/** Icon and word together, coloured by `data-status` in the stylesheet. */
export function badge(status: string, text?: string, extraClass?: string): HTMLSpanElement {
  return el('span', { className: `badge${extraClass ? ` ${extraClass}` : ''}`, 'data-status': status }, [
    el('span', { className: 'icon', 'aria-hidden': 'true', text: STATUS_ICON[status] ?? SEVERITY_ICON[status] ?? '\u2022' }),
    ' ',
    el('span', { className: 'word', text: text || word(status) }),
  ]);
}

export function timeEl(iso: string | null): HTMLTimeElement {
  return el('time', { datetime: iso, text: fmtTime(iso) });
}
