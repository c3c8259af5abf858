// @ts-check
// A tiny element builder. Text goes in as text nodes, never as HTML: order descriptions and plan
// names come from the service and must not become markup.

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** @param {string} id @returns {HTMLElement} */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

/**
 * The given nodes without the empty slots left by conditions, for `append`.
 * @param {...(Node | string | null | undefined | false)} items
 * @returns {(Node | string)[]}
 */
export const present = (...items) => /** @type {(Node | string)[]} */ (items.filter((i) => i !== null && i !== undefined && i !== false));
