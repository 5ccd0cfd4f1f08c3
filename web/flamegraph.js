// Flame graph on a <canvas>: the tree model (typed arrays in depth-first order) and the
// renderer (click to zoom, search, tooltip, icicle/flame orientation, diff colouring).
//
// A tree of n nodes is stored in pre-order: the subtree of node i is the index range
// [i, end[i]), its first child is i + 1 (when end[i] > i + 1) and the sibling after a child c is
// end[c]. Each node also has start[i], its horizontal offset in value units, so zooming is only a
// change of the (offset, scale) transform. Drawing skips the subtrees of frames narrower than a
// pixel (adjacent thin frames of a row are drawn as one grey run), so that a 100,000-node tree
// draws in a few milliseconds and builds from the GraphQL answer in a few tens.

export const KIND_PLAIN = 0;   // a frame with no stack type (trace profiling: Java frames)
export const KIND_KERNEL = 1;  // eBPF KERNEL_SPACE
export const KIND_USER = 2;    // eBPF USER_SPACE
export const KIND_ROOT = 3;    // the virtual root that holds the trees of one analysis

const KIND_BY_STACK_TYPE = { KERNEL_SPACE: KIND_KERNEL, USER_SPACE: KIND_USER };
export function kindOfStackType(stackType) {
  return KIND_BY_STACK_TYPE[stackType] ?? KIND_PLAIN;
}

// Collects nodes and builds a FlameTree. A node's parent may be written (this.parent[i]) after
// the node was added, so that input in any order works.
export class TreeBuilder {
  constructor(metricNames = [], capacity = 1024) {
    this.size = 0;
    this.capacity = 0;
    this.metricNames = metricNames;
    this.metrics = {};
    this.label = [];  // the frame names (not interned: hashing 100,000 strings costs more than the rest)
    this._grow(capacity);
  }

  _grow(capacity) {
    const grow = (old, Type) => {
      const a = new Type(capacity);
      if (old) a.set(old.subarray(0, this.size));
      return a;
    };
    this.parent = grow(this.parent, Int32Array);
    this.kind = grow(this.kind, Uint8Array);
    this.total = grow(this.total, Float64Array);
    for (const m of this.metricNames) this.metrics[m] = grow(this.metrics[m], Float64Array);
    this.capacity = capacity;
  }

  reserve(extra) {
    if (this.size + extra > this.capacity) this._grow(Math.max(this.size + extra, this.capacity * 2));
  }

  // parent: index returned by an earlier add(), or -1 for a root.
  // total: the width value (inclusive of children). Metrics are written by the caller into
  // this.metrics[name][index].
  add(parent, name, kind, total) {
    if (this.size === this.capacity) this._grow(this.capacity * 2);
    const index = this.size++;
    this.parent[index] = parent;
    this.label.push(name);
    this.kind[index] = kind;
    this.total[index] = total > 0 ? total : 0;
    return index;
  }

  // rootName: the virtual root over all roots (always added, so that several trees are one
  // graph); its total is the sum of the roots' totals and its metrics the sums of theirs.
  build(rootName = 'all') {
    const n = this.size + 1;  // + the virtual root (input index -1 → 0)
    const inParent = this.parent;
    // Children lists by counting sort, keeping the input order of siblings.
    const childCount = new Int32Array(n);
    for (let i = 0; i < n - 1; i++) childCount[inParent[i] + 1]++;
    const firstChildSlot = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) firstChildSlot[i + 1] = firstChildSlot[i] + childCount[i];
    const fill = firstChildSlot.slice(0, n);
    const children = new Int32Array(n - 1);
    for (let i = 0; i < n - 1; i++) children[fill[inParent[i] + 1]++] = i + 1;

    // Iterative pre-order traversal from the virtual root (input index 0 here = -1 + 1).
    const order = new Int32Array(n);      // pre-order position → builder index + 1
    const position = new Int32Array(n);   // builder index + 1 → pre-order position
    const stack = new Int32Array(n);
    let sp = 0;
    let k = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const v = stack[--sp];
      position[v] = k;
      order[k++] = v;
      for (let c = firstChildSlot[v + 1] - 1; c >= firstChildSlot[v]; c--) stack[sp++] = children[c];
    }
    if (k !== n) throw new Error(`malformed tree: ${n - k} nodes are not reachable from a root`);

    const tree = new FlameTree(n);
    const label = tree.label;
    for (let p = 0; p < n; p++) {
      const v = order[p];
      if (v === 0) {
        tree.parent[p] = -1;
        label.push(rootName);
        tree.kind[p] = KIND_ROOT;
      } else {
        tree.parent[p] = position[inParent[v - 1] + 1];
        label.push(this.label[v - 1]);
        tree.kind[p] = this.kind[v - 1];
        tree.total[p] = this.total[v - 1];
      }
    }
    for (const m of this.metricNames) {
      const src = this.metrics[m];
      const dst = new Float64Array(n);
      // (src is indexed by builder index; order[p] - 1 is the builder index of position p)
      for (let p = 1; p < n; p++) dst[p] = src[order[p] - 1];
      for (let p = 1; p < n; p++) if (tree.parent[p] === 0) dst[0] += dst[p];
      tree.metrics[m] = dst;
    }
    tree.finish();
    return tree;
  }
}

export class FlameTree {
  constructor(n) {
    this.n = n;
    this.parent = new Int32Array(n);
    this.label = [];  // filled in order (new Array(n) of this size would be a sparse array)
    this.kind = new Uint8Array(n);
    this.total = new Float64Array(n);
    this.self = new Float64Array(n);
    this.start = new Float64Array(n);
    this.end = new Int32Array(n);
    this.depth = new Int32Array(n);
    this.metrics = {};
    this.maxDepth = 0;
  }

  // Derives depth, end, self and start from parent/total (pre-order). The virtual root's total
  // is the sum of its children's; a parent narrower than its children is widened to their sum
  // (malformed input must not draw outside the parent).
  finish() {
    const { n, parent, total, self, start, end, depth } = this;
    for (let i = 0; i < n; i++) end[i] = i + 1;
    total[0] = 0;
    const childSum = new Float64Array(n);
    for (let i = n - 1; i > 0; i--) {
      const p = parent[i];
      if (end[i] > end[p]) end[p] = end[i];
      if (total[i] < childSum[i]) total[i] = childSum[i];
      childSum[p] += total[i];
    }
    total[0] = childSum[0];
    let maxDepth = 0;
    const next = new Float64Array(n);  // where the next child of a node starts
    for (let i = 0; i < n; i++) {
      self[i] = total[i] - childSum[i];
      if (i > 0) {
        const p = parent[i];
        depth[i] = depth[p] + 1;
        if (depth[i] > maxDepth) maxDepth = depth[i];
        start[i] = next[p];
        next[p] += total[i];
      }
      next[i] = start[i];
    }
    this.maxDepth = maxDepth;
  }

  name(i) {
    return this.label[i];
  }

  // Path from the root to i (inclusive), root first.
  path(i) {
    const out = [];
    for (let v = i; v >= 0; v = this.parent[v]) out.push(v);
    return out.reverse();
  }

  // Self and total (total counted once per path: a recursive frame does not double count)
  // aggregated by symbol, largest self first.
  topFrames(limit = 50, metricSelf = null) {
    const { n, label, total, self, end } = this;
    const slotOf = new Map();
    const slot = new Int32Array(n);
    for (let i = 1; i < n; i++) {
      let k = slotOf.get(label[i]);
      if (k === undefined) {
        k = slotOf.size;
        slotOf.set(label[i], k);
      }
      slot[i] = k;
    }
    const m = slotOf.size;
    const selfBy = new Float64Array(m);
    const totalBy = new Float64Array(m);
    const metricBy = metricSelf ? new Float64Array(m) : null;
    const kindBy = new Uint8Array(m);
    const nameBy = new Array(m);
    const open = new Int32Array(m);
    const stack = new Int32Array(this.maxDepth + 2);
    let sp = 0;
    for (let i = 1; i < n; i++) {
      while (sp > 0 && end[stack[sp - 1]] <= i) open[slot[stack[--sp]]]--;
      const k = slot[i];
      selfBy[k] += self[i];
      if (metricBy) metricBy[k] += metricSelf[i];
      kindBy[k] = this.kind[i];
      nameBy[k] = label[i];
      if (open[k] === 0) totalBy[k] += total[i];
      open[k]++;
      stack[sp++] = i;
    }
    const ids = [];
    for (let k = 0; k < m; k++) if (selfBy[k] > 0) ids.push(k);
    ids.sort((a, b) => selfBy[b] - selfBy[a] || totalBy[b] - totalBy[a]);
    return ids.slice(0, limit).map((k) => ({
      name: nameBy[k],
      kind: kindBy[k],
      self: selfBy[k],
      total: totalBy[k],
      metricSelf: metricBy ? metricBy[k] : undefined,
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// Colours

function hsl(h, s, l) {
  return `hsl(${h.toFixed(0)} ${s.toFixed(0)}% ${l.toFixed(0)}%)`;
}
const SHADES = 12;
const NO_COLOUR = 255;
// Palettes: index = kind * SHADES + shade. Warm for user/Java frames, cool for kernel frames.
function buildPalette(dim) {
  const out = [];
  for (let kind = 0; kind < 4; kind++) {
    for (let s = 0; s < SHADES; s++) {
      const t = s / (SHADES - 1);
      let h, sat, light;
      if (kind === KIND_KERNEL) [h, sat, light] = [175 + 45 * t, 55, 58 + 8 * t];
      else if (kind === KIND_ROOT) [h, sat, light] = [220, 8, 72];
      else if (kind === KIND_USER) [h, sat, light] = [8 + 42 * t, 78, 60 + 6 * t];
      else [h, sat, light] = [10 + 40 * t, 75, 62 + 6 * t];
      if (dim) [sat, light] = [sat * 0.25, 86];
      out.push(hsl(h, sat, light));
    }
  }
  return out;
}
const PALETTE = buildPalette(false);
const PALETTE_DIM = buildPalette(true);
const MATCH_COLOUR = 'hsl(300 85% 62%)';
export const KIND_COLOURS = {
  plain: PALETTE[KIND_PLAIN * SHADES + 4],
  user: PALETTE[KIND_USER * SHADES + 4],
  kernel: PALETTE[KIND_KERNEL * SHADES + 4],
  match: MATCH_COLOUR,
};

// Diff palette: index 0..2*DIFF_STEPS, DIFF_STEPS = no change, above = grew (red), below =
// shrank (blue).
const DIFF_STEPS = 10;
const DIFF_PALETTE = [];
for (let k = -DIFF_STEPS; k <= DIFF_STEPS; k++) {
  const t = Math.abs(k) / DIFF_STEPS;
  if (k === 0) DIFF_PALETTE.push('hsl(0 0% 86%)');
  else if (k > 0) DIFF_PALETTE.push(hsl(2, 25 + 65 * t, 84 - 34 * t));
  else DIFF_PALETTE.push(hsl(218, 25 + 65 * t, 84 - 34 * t));
}
export const DIFF_COLOURS = { grew: DIFF_PALETTE[2 * DIFF_STEPS], shrank: DIFF_PALETTE[0], same: DIFF_PALETTE[DIFF_STEPS] };

function hashString(s) {
  // FNV-1a over the name (a frame keeps its colour across views and zoom levels).
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Renderer

const ROW = 18;          // px per stack level
const THIN = 1;          // px: narrower frames are drawn merged with their thin neighbours in
                         // the row, and their subtrees are not drawn (they are narrower still)
const THIN_COLOUR = 'hsl(30 6% 74%)';
const LABEL_MIN = 22;    // px: narrower frames get no label
const FONT = '12px ui-monospace, "DejaVu Sans Mono", monospace';

export class FlameGraph {
  // container: an element that receives the canvas (and is scrolled when tall).
  // options.describe(i, tree) → HTML of the tooltip for node i.
  // options.onZoom(i), options.onChange() are notified.
  constructor(container, options = {}) {
    this.container = container;
    this.options = options;
    this.wrap = document.createElement('div');
    this.wrap.className = 'flame-wrap';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'flame-canvas';
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'flame-overlay';
    this.tooltip = document.createElement('div');
    this.tooltip.className = 'flame-tooltip';
    this.tooltip.hidden = true;
    this.wrap.append(this.canvas, this.overlay);
    this.wrap.hidden = true;
    container.append(this.wrap, this.tooltip);
    this.ctx = this.canvas.getContext('2d', { alpha: false });
    this.octx = this.overlay.getContext('2d');
    this.tree = null;
    this.zoom = 0;
    this.orientation = 'icicle';
    this.colourMode = 'kind';  // 'kind' | 'diff'
    this.match = null;         // Uint8Array per node, or null without a search
    this.hover = -1;
    this.lastRenderMs = 0;
    this.canvas.addEventListener('mousemove', (e) => this._onMove(e));
    this.canvas.addEventListener('mouseleave', () => this._setHover(-1, null));
    this.canvas.addEventListener('click', (e) => this._onClick(e));
    if (typeof ResizeObserver !== 'undefined') {
      let lastWidth = 0;
      this.resizeObserver = new ResizeObserver(() => {
        const w = this.container.clientWidth;
        if (w !== lastWidth && this.tree) {
          lastWidth = w;
          this.render();
        }
      });
      this.resizeObserver.observe(container);
    }
  }

  // tree: a FlameTree. colourMode 'kind' (frame kind + name hash) or 'diff' (diffDelta:
  // Float64Array of the change in share per node).
  setTree(tree, { colourMode = 'kind', diffDelta = null } = {}) {
    this.tree = tree;
    this.wrap.hidden = false;
    this.zoom = 0;
    this.match = null;
    this.hover = -1;
    this.colourMode = colourMode;
    const n = tree.n;
    const colour = new Uint8Array(n);
    if (colourMode === 'diff' && diffDelta) {
      let maxAbs = 0;
      for (let i = 1; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(diffDelta[i]));
      for (let i = 0; i < n; i++) {
        const d = diffDelta[i];
        let step = maxAbs > 0 ? Math.round((d / maxAbs) * DIFF_STEPS) : 0;
        if (step === 0 && Math.abs(d) > 1e-12) step = d > 0 ? 1 : -1;
        colour[i] = step + DIFF_STEPS;
      }
    } else {
      // By kind and name; computed when a frame is first drawn (hashing every name of a large
      // tree up front would cost more than drawing it).
      colour.fill(NO_COLOUR);
    }
    this.colour = colour;
    return this.render();
  }

  clear() {
    this.tree = null;
    this.wrap.hidden = true;
    this.canvas.width = this.overlay.width = 0;
    this.canvas.height = this.overlay.height = 0;
    this.tooltip.hidden = true;
  }

  setOrientation(orientation) {
    this.orientation = orientation === 'flame' ? 'flame' : 'icicle';
    if (this.tree) this.render();
  }

  zoomTo(i) {
    if (!this.tree) return 0;
    this.zoom = i >= 0 && i < this.tree.n ? i : 0;
    this._setHover(-1, null);
    const ms = this.render();
    this.options.onZoom?.(this.zoom);
    return ms;
  }

  reset() {
    return this.zoomTo(0);
  }

  // pattern: text (case-insensitive substring) or /regex/flags. Returns
  // {nodes, symbols, value, share} where value sums the matched frames' totals without
  // counting a match inside another match twice, and share = value / root total.
  search(pattern) {
    const tree = this.tree;
    if (!tree) return null;
    if (!pattern) {
      this.match = null;
      this.render();
      return null;
    }
    let test;
    const re = /^\/(.+)\/([a-z]*)$/.exec(pattern);
    if (re) {
      let regex;
      try {
        const flags = re[2].replace(/[^imsu]/g, '');
        regex = new RegExp(re[1], flags.includes('i') ? flags : flags + 'i');
      } catch (err) {
        throw new Error(`invalid regular expression: ${err.message}`);
      }
      test = (i) => regex.test(tree.label[i]);
    } else {
      const needle = pattern.toLowerCase();
      const lower = tree.lowerLabel || (tree.lowerLabel = tree.label.map((s) => s.toLowerCase()));
      test = (i) => lower[i].includes(needle);
    }
    const match = new Uint8Array(tree.n);
    const matchedNames = new Set();
    let nodes = 0;
    const label = tree.label;
    for (let i = 1; i < tree.n; i++) {
      if (test(i)) {
        match[i] = 1;
        nodes++;
        matchedNames.add(label[i]);
      }
    }
    const symbols = matchedNames.size;
    let value = 0;
    for (let i = 1; i < tree.n; ) {
      if (match[i]) {
        value += tree.total[i];
        i = tree.end[i];
      } else {
        i++;
      }
    }
    this.match = match;
    this.render();
    const rootTotal = tree.total[0];
    return { nodes, symbols, value, share: rootTotal > 0 ? value / rootTotal : 0 };
  }

  // Layout of the current view.
  _rowY(depth, rows) {
    return this.orientation === 'flame' ? (rows - 1 - depth) * ROW : depth * ROW;
  }

  // Draws the current view; returns the time it took in ms.
  render() {
    const t0 = performance.now();
    const tree = this.tree;
    if (!tree) return 0;
    const width = Math.max(1, this.container.clientWidth);
    const zt = tree.total[this.zoom];
    const scale = zt > 0 ? width / zt : 0;
    const x0 = tree.start[this.zoom];

    // 1. Collect the visible nodes: the zoomed node's ancestors (full width) and its subtree.
    const { total, start, end, depth } = tree;
    const visible = this._visible && this._visible.length >= tree.n ? this._visible : new Int32Array(tree.n);
    this._visible = visible;
    let count = 0;
    for (let v = tree.parent[this.zoom]; v >= 0; v = tree.parent[v]) visible[count++] = v;
    // Thin frames: runs of adjacent thin frames of a row become one rectangle. Pre-order visits
    // each row from left to right, so one open run per row suffices.
    const maxRows = tree.maxDepth + 1;
    const runOpen = new Float64Array(maxRows).fill(-1);
    const runEnd = new Float64Array(maxRows);
    const runs = [];  // x0, x1, depth, ...
    let deepest = depth[this.zoom];
    const stop = end[this.zoom];
    for (let i = this.zoom; i < stop; ) {
      const w = total[i] * scale;
      const d = depth[i];
      if (w >= THIN) {
        visible[count++] = i;
        if (d > deepest) deepest = d;
        i++;
        continue;
      }
      if (w > 0) {
        const x = (start[i] - x0) * scale;
        if (d > deepest) deepest = d;
        if (runOpen[d] >= 0 && runEnd[d] >= x - 0.5) {
          runEnd[d] = x + w;
        } else {
          if (runOpen[d] >= 0) runs.push(runOpen[d], runEnd[d], d);
          runOpen[d] = x;
          runEnd[d] = x + w;
        }
      }
      i = end[i];
    }
    for (let d = 0; d < maxRows; d++) if (runOpen[d] >= 0) runs.push(runOpen[d], runEnd[d], d);
    this.visibleCount = count;
    this.thinRuns = runs.length / 3;

    // The canvas is as tall as the deepest row drawn.
    const rows = deepest + 1;
    const height = rows * ROW;
    this.viewGeometry = { width, rows, height, x0, scale };
    const dpr = window.devicePixelRatio || 1;
    const pw = Math.round(width * dpr);
    const ph = Math.round(height * dpr);
    if (this.canvas.width !== pw || this.canvas.height !== ph) {
      this.canvas.width = this.overlay.width = pw;
      this.canvas.height = this.overlay.height = ph;
      this.canvas.style.width = this.overlay.style.width = `${width}px`;
      this.canvas.style.height = this.overlay.style.height = `${height}px`;
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);

    // 2. Rectangles, batched by colour (one path per colour).
    const colour = this.colour;
    const match = this.match;
    const palette = this.colourMode === 'diff' ? DIFF_PALETTE : PALETTE;
    const buckets = palette.length + 1;  // last bucket: search matches
    const bucketCount = new Int32Array(buckets + 1);
    const { kind, label } = tree;
    const bucketOf = (i) => {
      if (match && match[i]) return buckets - 1;
      let c = colour[i];
      if (c === NO_COLOUR) c = colour[i] = kind[i] * SHADES + (hashString(label[i]) % SHADES);
      return c;
    };
    for (let k = 0; k < count; k++) bucketCount[bucketOf(visible[k]) + 1]++;
    for (let b = 0; b < buckets; b++) bucketCount[b + 1] += bucketCount[b];
    const sorted = new Int32Array(count);
    const cursor = bucketCount.slice(0, buckets);
    for (let k = 0; k < count; k++) {
      const i = visible[k];
      sorted[cursor[bucketOf(i)]++] = i;
    }
    const zoomDepth = depth[this.zoom];
    const isAncestor = (i) => depth[i] < zoomDepth;
    for (let b = 0; b < buckets; b++) {
      const from = bucketCount[b];
      const to = bucketCount[b + 1];
      if (from === to) continue;
      if (b === buckets - 1) ctx.fillStyle = MATCH_COLOUR;
      else ctx.fillStyle = match && this.colourMode !== 'diff' ? PALETTE_DIM[b] : palette[b];
      ctx.beginPath();
      for (let k = from; k < to; k++) {
        const i = sorted[k];
        let x, w;
        if (isAncestor(i)) {
          x = 0;
          w = width;
        } else {
          x = (start[i] - x0) * scale;
          w = total[i] * scale;
        }
        ctx.rect(x, this._rowY(depth[i], rows), w > 1.5 ? w - 0.5 : w, ROW - 1);
      }
      ctx.fill();
    }
    if (runs.length) {
      ctx.fillStyle = THIN_COLOUR;
      ctx.beginPath();
      for (let k = 0; k < runs.length; k += 3) ctx.rect(runs[k], this._rowY(runs[k + 2], rows), runs[k + 1] - runs[k], ROW - 1);
      ctx.fill();
    }
    // Ancestors of the zoomed frame are drawn faded (they are wider than the view).
    if (zoomDepth > 0) {
      ctx.fillStyle = 'rgba(255,255,255,0.45)';
      for (let v = tree.parent[this.zoom]; v >= 0; v = tree.parent[v]) {
        ctx.fillRect(0, this._rowY(depth[v], rows), width, ROW - 1);
      }
    }

    // 3. Labels of the frames wide enough for a few characters.
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#1b1b1b';
    if (!this.charWidth) this.charWidth = ctx.measureText('MMMMMMMMMM').width / 10 || 7;
    const cw = this.charWidth;
    for (let k = 0; k < count; k++) {
      const i = visible[k];
      let x, w;
      if (isAncestor(i)) {
        x = 0;
        w = width;
      } else {
        w = total[i] * scale;
        if (w < LABEL_MIN) continue;
        x = (start[i] - x0) * scale;
      }
      // Keep the label inside the visible part of the frame.
      const left = Math.max(x, 0);
      const right = Math.min(x + w, width);
      const room = Math.floor((right - left - 6) / cw);
      if (room < 2) continue;
      const name = tree.label[i];
      const label = name.length <= room ? name : name.slice(0, room - 1) + '…';
      ctx.fillText(label, left + 3, this._rowY(depth[i], rows) + ROW / 2);
    }
    this._drawOverlay();
    // When measuring, a one-pixel read-back waits until the canvas is painted, so that the time
    // includes rasterisation (off by default: read-backs slow accelerated canvases down).
    if (FlameGraph.measureRaster) ctx.getImageData(0, 0, 1, 1);
    this.lastRenderMs = performance.now() - t0;
    this.options.onRender?.(this.lastRenderMs);
    return this.lastRenderMs;
  }

  // The node under a point of the canvas (CSS px), or -1.
  nodeAt(px, py) {
    const tree = this.tree;
    if (!tree || !this.viewGeometry) return -1;
    const { width, rows, x0, scale } = this.viewGeometry;
    if (px < 0 || px >= width || py < 0) return -1;
    const row = Math.floor(py / ROW);
    if (row >= rows) return -1;
    const d = this.orientation === 'flame' ? rows - 1 - row : row;
    const zoomDepth = tree.depth[this.zoom];
    if (d < zoomDepth) {
      let v = this.zoom;
      while (tree.depth[v] > d) v = tree.parent[v];
      return v;
    }
    const value = x0 + px / scale;
    let node = this.zoom;
    while (tree.depth[node] < d) {
      // Below a thin frame nothing is drawn.
      if (node !== this.zoom && tree.total[node] * scale < THIN) return -1;
      let found = -1;
      for (let c = node + 1; c < tree.end[node]; c = tree.end[c]) {
        if (tree.start[c] <= value && value < tree.start[c] + tree.total[c]) {
          found = c;
          break;
        }
      }
      if (found < 0) return -1;
      node = found;
    }
    if (!(tree.total[node] > 0)) return -1;
    return node;
  }

  // Rectangle of node i in CSS px relative to the canvas, or null when it is not drawn.
  rectOf(i) {
    const tree = this.tree;
    if (!tree || !this.viewGeometry || i < 0 || i >= tree.n) return null;
    const { width, rows, x0, scale } = this.viewGeometry;
    const y = this._rowY(tree.depth[i], rows);
    if (tree.depth[i] < tree.depth[this.zoom]) {
      return this.tree.path(this.zoom).includes(i) ? { x: 0, y, w: width, h: ROW - 1 } : null;
    }
    if (i < this.zoom || i >= tree.end[this.zoom]) return null;
    const w = tree.total[i] * scale;
    if (!(w > 0)) return null;
    // Under a thin frame nothing is drawn (widths only shrink downwards: the parent decides).
    if (i !== this.zoom && tree.total[tree.parent[i]] * scale < THIN) return null;
    return { x: (tree.start[i] - x0) * scale, y, w, h: ROW - 1 };
  }

  _pointer(e) {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  _onMove(e) {
    const [x, y] = this._pointer(e);
    this._setHover(this.nodeAt(x, y), e);
  }

  _onClick(e) {
    const [x, y] = this._pointer(e);
    const i = this.nodeAt(x, y);
    if (i >= 0) this.zoomTo(i === this.zoom && i !== 0 ? this.tree.parent[i] : i);
  }

  _setHover(i, e) {
    if (i !== this.hover) {
      this.hover = i;
      this._drawOverlay();
    }
    const tip = this.tooltip;
    if (i < 0 || !e) {
      tip.hidden = true;
      return;
    }
    tip.innerHTML = this.options.describe ? this.options.describe(i, this.tree) : escapeHtml(this.tree.name(i));
    tip.hidden = false;
    // Place next to the pointer, inside the viewport.
    const pad = 14;
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    let left = e.clientX + pad;
    let top = e.clientY + pad;
    if (left + tw > window.innerWidth - 4) left = Math.max(4, e.clientX - pad - tw);
    if (top + th > window.innerHeight - 4) top = Math.max(4, e.clientY - pad - th);
    tip.style.left = `${left}px`;
    tip.style.top = `${top}px`;
  }

  _drawOverlay() {
    const o = this.octx;
    const dpr = window.devicePixelRatio || 1;
    o.setTransform(1, 0, 0, 1, 0, 0);
    o.clearRect(0, 0, this.overlay.width, this.overlay.height);
    if (this.hover < 0) {
      this.canvas.style.cursor = '';
      return;
    }
    const r = this.rectOf(this.hover);
    if (!r) return;
    o.setTransform(dpr, 0, 0, dpr, 0, 0);
    o.strokeStyle = '#000';
    o.lineWidth = 1.5;
    o.strokeRect(Math.max(r.x, 0) + 0.75, r.y + 0.75, Math.max(Math.min(r.w, this.viewGeometry.width) - 1.5, 1), r.h - 1.5);
    this.canvas.style.cursor = 'pointer';
  }
}

FlameGraph.measureRaster = false;

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// A deterministic synthetic profile of n nodes, shaped like an eBPF analysis result
// ({trees: [{elements: [{id, parentId, symbol, stackType, dumpCount}]}]}, breadth-first ids per
// tree): random stacks of 20–80 frames with shared prefixes (a skewed choice of the next frame
// at each depth) and a few kernel frames at the leaf end of some stacks, merged until the tree
// has n nodes, as a real profile with a long tail of rare paths.
export function syntheticProfile(n, seed = 42) {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const pkgs = ['org.apache.catalina', 'org.springframework.web', 'com.example.shop', 'java.util', 'io.netty.channel', 'com.mysql.cj'];
  const kernel = ['do_syscall_64', 'entry_SYSCALL_64', '__x64_sys_epoll_wait', 'schedule', '__schedule', 'finish_task_switch', 'tcp_sendmsg', 'ksys_write', 'vfs_read'];
  const parent = [];
  const name = [];
  const kind = [];
  const count = [];
  const children = [];
  const rootChildren = new Map();
  while (parent.length < n) {
    const len = 20 + Math.floor(Math.pow(rand(), 0.7) * 60);
    const kernelFrames = rand() < 0.4 ? 2 + Math.floor(rand() * 5) : 0;
    let cur = -1;
    for (let d = 0; d < len && parent.length <= n; d++) {
      const isKernel = d >= len - kernelFrames;
      const fanout = d < 3 ? 2 : isKernel ? 4 : 3 + (d % 4) * 2;
      const choice = Math.floor(Math.pow(rand(), 4) * fanout);
      const map = cur < 0 ? rootChildren : children[cur];
      let child = map.get(choice);
      if (child === undefined) {
        if (parent.length === n) break;
        child = parent.length;
        parent.push(cur);
        const h = (Math.imul(cur + 7, 2654435761) ^ (choice * 40503) ^ d) >>> 0;
        name.push(isKernel ? kernel[h % kernel.length] : `${pkgs[h % pkgs.length]}.Class${h % 997}.method${choice}:${d}`);
        kind.push(isKernel ? 'KERNEL_SPACE' : 'USER_SPACE');
        count.push(0);
        children.push(new Map());
        map.set(choice, child);
      }
      count[child]++;
      cur = child;
    }
  }
  // Breadth-first numbering per tree, as the server does.
  const trees = [];
  for (const root of rootChildren.values()) {
    const elements = [];
    const ids = new Map([[root, 1]]);
    const queue = [root];
    for (let q = 0; q < queue.length; q++) {
      const v = queue[q];
      const id = ids.get(v);
      elements.push({ id: String(id), parentId: parent[v] < 0 ? '0' : String(ids.get(parent[v])), symbol: name[v], stackType: kind[v], dumpCount: count[v] });
      for (const c of children[v].values()) {
        ids.set(c, ids.size + 1);
        queue.push(c);
      }
    }
    trees.push({ elements });
  }
  return { tip: null, trees };
}
