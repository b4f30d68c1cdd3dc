// Small line icons for the row actions, drawn on a 16×16 grid with the text's colour. The
// buttons keep their words beside them (or, in a narrow table, in their names and tooltips).

const SVG = 'http://www.w3.org/2000/svg'

const SHAPES = {
  download: [['path', { d: 'M8 2.5v7.5M4.75 6.75 8 10l3.25-3.25M3 13.5h10' }]],
  view: [
    ['path', { d: 'M1.5 8S4 3.5 8 3.5 14.5 8 14.5 8 12 12.5 8 12.5 1.5 8 1.5 8Z' }],
    ['circle', { cx: '8', cy: '8', r: '2' }],
  ],
  rename: [['path', { d: 'M10.5 3 13 5.5 6 12.5H3.5V10ZM9 4.5 11.5 7' }]],
  lock: [
    ['rect', { x: '3.5', y: '7', width: '9', height: '6.5', rx: '1.5' }],
    ['path', { d: 'M5.5 7V5a2.5 2.5 0 0 1 5 0v2' }],
  ],
  unlock: [
    ['rect', { x: '3.5', y: '7', width: '9', height: '6.5', rx: '1.5' }],
    ['path', { d: 'M5.5 7V5a2.5 2.5 0 0 1 4.9-.7' }],
  ],
  delete: [['path', { d: 'M2.5 4.5h11M6 4.5V2.5h4v2M4 4.5l.75 9h6.5l.75-9' }]],
}

const drawn = new Map()

function draw(name) {
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', '0 0 16 16')
  svg.setAttribute('width', '16')
  svg.setAttribute('height', '16')
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('class', 'icon')
  for (const [tag, attributes] of SHAPES[name] ?? []) {
    const shape = document.createElementNS(SVG, tag)
    for (const [key, value] of Object.entries(attributes)) shape.setAttribute(key, value)
    svg.append(shape)
  }
  return svg
}

/** The icon `name` as an <svg>, hidden from screen readers (its button has a name). */
export function icon(name) {
  // Drawn once, then copied: a page of rows has a thousand of them.
  if (!drawn.has(name)) drawn.set(name, draw(name))
  return drawn.get(name).cloneNode(true)
}
