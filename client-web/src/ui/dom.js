// dom.js: the page's one way to make elements. Text goes in as text nodes
// (never innerHTML), attributes by name; "on" handlers are functions.

export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false) continue;
			if (k.startsWith('on')) {	// a handler, never an attribute
				if (typeof v === 'function') el.addEventListener(k.slice(2), v);
			}
			else if (k === 'class') el.className = v;
			else if (k === 'value') el.value = v;
			else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'open' || k === 'selected') el[k] = true;
			else el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(el, children);
	return el;
}

export function append(el, children) {
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false) continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

/* Replaces el's children. */
export function fill(el, ...children) {
	el.replaceChildren();
	return append(el, children);
}

let seq = 0;
export const uid = (p) => `${p}-${++seq}`;

/*
 * Whether the page is used by touch (a phone, a tablet; its primary
 * pointer coarse): there Enter starts a new line in a message, and no
 * key hint is shown. Asked each time, as a tablet may get a keyboard.
 */
export const byTouch = () => typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
