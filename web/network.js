// The network-profiling view of one service instance: start or keep a NETWORK task (the server's
// refusal shown verbatim), the process topology of the chosen time range drawn as a graph
// (processes of the instance on the left, peers outside it on the right, edges client → server
// labelled with protocol and detect points), and for a clicked edge its TCP and HTTP/1.x metrics
// over time (execExpression, process_relation_*) and the slow and failing requests Rover sampled
// on it (top_n of the sampled records); a sampled request's trace opens with its spans and the
// events Rover attached to them, the raw request and response among them (queryTrace).

import { Q, gql } from './api.js';
import { drawChart, lastMinutes, minuteDuration, seriesOf } from './chart.js';
import { escapeHtml as h } from './flamegraph.js';

const $ = (sel, root) => root.querySelector(sel);

// booster-ui's label of a call (ProcessTopology.vue): TLS over HTTP over HTTPS over TCP.
export function callProtocol(call) {
  const components = [...call.sourceComponents, ...call.targetComponents];
  if (components.includes('tls')) return 'TLS';
  if (components.includes('http')) return 'HTTP';
  if (components.includes('https')) return 'HTTPS';
  return 'TCP';
}

// The charts of one call (the ProcessRelation dashboards' widgets, addendum §1.3), measured on the
// side that detected it: [{title, expression, unit}].
export function callCharts(call) {
  const side = call.detectPoints.includes('CLIENT') ? 'client' : 'server';
  const p = `process_relation_${side}`;
  const charts = [
    { title: `Writes (${side})`, expression: `${p}_write_cpm`, unit: '/min' },
    { title: `Reads (${side})`, expression: `${p}_read_cpm`, unit: '/min' },
    { title: 'Written', expression: `${p}_write_total_bytes/1024`, unit: 'KB' },
    { title: 'Read', expression: `${p}_read_total_bytes/1024`, unit: 'KB' },
    { title: 'Average write time', expression: `${p}_write_avg_exe_time/1000000`, unit: 'ms' },
    { title: 'Write RTT percentiles', expression: `${p}_write_rtt_time_percentile`, unit: 'µs' },
  ];
  const protocol = callProtocol(call);
  if (protocol === 'HTTP' || protocol === 'HTTPS') {
    charts.push(
      { title: 'HTTP requests', expression: 'process_relation_http1_request_cpm', unit: '/min' },
      { title: 'HTTP responses by status', expression: 'process_relation_http1_response_status_cpm', unit: '/min' },
      { title: `HTTP duration (${side})`, expression: `process_relation_http1_${side}_duration`, unit: 'ms' },
      { title: `HTTP duration percentiles (${side})`, expression: `process_relation_http1_${side}_duration_percentile`, unit: 'ms' },
    );
  }
  return charts;
}

const SAMPLED = [
  { reason: 'slow', expression: 'top_n(sampled_slow_trace_record,50,DES)' },
  { reason: '4xx', expression: 'top_n(sampled_status_4xx_trace_record,50,DES)' },
  { reason: '5xx', expression: 'top_n(sampled_status_5xx_trace_record,50,DES)' },
];

// One request of several execExpression fields (e0, e1, ...) sharing an entity and a duration.
function expressionsQuery(count) {
  const vars = Array.from({ length: count }, (_, i) => `, $e${i}: String!`).join('');
  const fields = Array.from({ length: count }, (_, i) =>
    `e${i}: execExpression(expression: $e${i}, entity: $entity, duration: $duration) { type results { metric { labels { key value } } values { id value traceID } } error }`).join('\n');
  return `query callMetrics($duration: Duration!, $entity: Entity!${vars}) {\n${fields}\n}`;
}

export class NetworkView {
  // `root` holds the view's markup (index.html #network-panel). `ctx`: {now(), zone(),
  // fmtTime(ms), guarded(context, fn)}.
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.service = null;
    this.instances = [];
    this.instanceId = '';
    this.tasks = [];
    this.topology = null;
    this.call = null;
    this.range = null;
    this.wire();
  }

  wire() {
    const r = this.root;
    const g = (context, fn) => () => this.ctx.guarded(context, fn);
    $('#net-instance', r).addEventListener('change', (e) => this.ctx.guarded('Network profiling', () => this.selectInstance(e.target.value)));
    $('#net-refresh', r).addEventListener('click', g('Network profiling', () => this.selectInstance(this.instanceId)));
    $('#net-range', r).addEventListener('change', g('Process topology', () => this.loadTopology()));
    $('#net-form', r).addEventListener('submit', (e) => {
      e.preventDefault();
      this.ctx.guarded('Network task', () => this.start());
    });
    $('#net-keep', r).addEventListener('click', g('Network task', () => this.keep()));
  }

  message(text, cls) {
    const el = $('#net-message', this.root);
    el.textContent = text;
    el.className = `form-message ${cls}`;
  }

  async open(service) {
    this.service = service;
    this.message('', '');
    $('#net-title', this.root).textContent = `Network profiling of ${service.name}`;
    const data = await gql(Q.instances, { serviceId: service.id, duration: minuteDuration(lastMinutes(this.ctx.now(), 60), this.ctx.zone()) });
    this.instances = (data.instances || []).slice().sort((a, b) => a.name.localeCompare(b.name));
    const select = $('#net-instance', this.root);
    select.innerHTML = this.instances.length
      ? this.instances.map((i) => `<option value="${h(i.id)}">${h(i.name)}</option>`).join('')
      : '<option value="">no instance in the last hour</option>';
    const keep = this.instances.find((i) => i.id === this.instanceId) || this.instances[0];
    select.value = keep ? keep.id : '';
    await this.selectInstance(keep ? keep.id : '');
  }

  async selectInstance(id) {
    this.instanceId = id;
    this.call = null;
    $('#net-call', this.root).hidden = true;
    if (!id) {
      this.tasks = [];
      this.topology = null;
      this.renderTasks();
      this.drawTopology();
      return;
    }
    await this.loadTasks();
    await this.loadTopology();
  }

  // Shows the instance of `task` (a NETWORK task, e.g. one continuous profiling triggered) over
  // the shortest offered range that reaches back to its start.
  async focusTask(task) {
    const select = $('#net-range', this.root);
    const ago = (this.ctx.now() - Number(task.taskStartTime)) / 60000;
    const options = [...select.options].map((o) => Number(o.value));
    select.value = String(options.find((m) => m >= ago) || options[options.length - 1]);
    $('#net-instance', this.root).value = task.serviceInstanceId;
    await this.selectInstance(task.serviceInstanceId);
  }

  // ---- tasks

  async loadTasks() {
    const data = await gql(Q.ebpfTasksWithCauses, { serviceId: this.service.id, serviceInstanceId: this.instanceId, targets: ['NETWORK'], triggerType: 'FIXED_TIME' });
    this.tasks = (data.queryEBPFTasks || []).slice().sort((a, b) => Number(b.taskStartTime) - Number(a.taskStartTime));
    this.renderTasks();
  }

  runningTask() {
    const t = this.tasks[0];
    return t && Number(t.taskStartTime) + Number(t.fixedTriggerDuration || 0) * 1000 > this.ctx.now() ? t : null;
  }

  renderTasks() {
    const running = this.runningTask();
    $('#net-keep', this.root).disabled = !running;
    $('#net-task-state', this.root).textContent = !this.instanceId ? ''
      : running ? `Task ${running.taskId.slice(0, 12)}… running since ${this.ctx.fmtTime(running.taskStartTime)}, until ${this.ctx.fmtTime(Number(running.taskStartTime) + Number(running.fixedTriggerDuration) * 1000)}.`
        : this.tasks.length ? `No task running; the last one started ${this.ctx.fmtTime(this.tasks[0].taskStartTime)}.` : 'No network task on this instance yet.';
  }

  samplingRules() {
    const f = $('#net-form', this.root);
    const rule = {
      when4xx: f.when4xx.checked,
      when5xx: f.when5xx.checked,
      settings: { requireCompleteRequest: f.complete.checked, requireCompleteResponse: f.complete.checked },
    };
    if (f.uriRegex.value.trim()) rule.uriRegex = f.uriRegex.value.trim();
    const min = f.minDuration.value.trim();
    if (min) {
      if (!/^\d+$/.test(min)) throw new Error(`the minimum duration "${min}" is not a whole number of ms`);
      rule.minDuration = Number(min);
    }
    return [rule];
  }

  async start() {
    if (!this.instanceId) return;
    let samplings;
    try {
      samplings = this.samplingRules();
    } catch (err) {
      this.message(err.message, 'refused');
      return;
    }
    const data = await gql(Q.createNetworkTask, { request: { instanceId: this.instanceId, samplings } });
    const r = data.createTask;
    if (!r.status) {
      this.message(r.errorReason || 'refused without a reason', 'refused');
      return;
    }
    this.message(`Started task ${r.id}.`, 'ok');
    await this.loadTasks();
  }

  async keep() {
    const task = this.runningTask();
    if (!task) return;
    const data = await gql(Q.keepNetworkTask, { taskId: task.taskId });
    const r = data.keepTask;
    this.message(r.status ? 'Kept alive.' : r.errorReason || 'refused without a reason', r.status ? 'ok' : 'refused');
    await this.loadTasks();
  }

  // ---- topology

  async loadTopology() {
    if (!this.instanceId) return;
    this.range = lastMinutes(this.ctx.now(), Number($('#net-range', this.root).value));
    const data = await gql(Q.processTopology, { serviceInstanceId: this.instanceId, duration: minuteDuration(this.range, this.ctx.zone()) });
    this.topology = data.topology || { nodes: [], calls: [] };
    this.drawTopology();
    if (this.call) {
      const again = this.topology.calls.find((c) => c.id === this.call.id);
      if (again) await this.openCall(again);
    }
  }

  drawTopology() {
    const box = $('#net-topology', this.root);
    const topo = this.topology;
    if (!topo || !topo.nodes.length) {
      box.innerHTML = `<p class="muted">No process talked to another in this time range${this.instanceId ? '' : ' (pick an instance)'}: Rover reports a network task's connections every few seconds.</p>`;
      return;
    }
    const inside = topo.nodes.filter((n) => n.isReal && n.serviceInstanceId === this.instanceId);
    const outside = topo.nodes.filter((n) => !inside.includes(n));
    const W = 900;
    const rowH = 56;
    const H = Math.max(inside.length, outside.length) * rowH + 60;
    const pos = new Map();
    const place = (nodes, x) => nodes.forEach((n, i) => pos.set(n.id, { x, y: 50 + i * rowH + ((Math.max(inside.length, outside.length) - nodes.length) * rowH) / 2 }));
    place(inside, 220);
    place(outside, 680);
    const parts = [
      `<defs><marker id="net-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#69737f"/></marker></defs>`,
      `<rect class="net-instance-box" x="90" y="14" width="260" height="${H - 24}" rx="8"/>`,
      `<text class="net-box-label" x="100" y="30">instance ${h(inside[0]?.serviceInstanceName || '')}</text>`,
    ];
    topo.calls.forEach((call, k) => {
      const a = pos.get(call.source);
      const b = pos.get(call.target);
      if (!a || !b) return;
      // Calls within a column bend outwards; calls across go straight, offset a little per call.
      const sameColumn = a.x === b.x;
      const bend = sameColumn ? (a.x < 450 ? -90 : 90) : (k % 3 - 1) * 14;
      const mx = (a.x + b.x) / 2 + bend;
      const my = (a.y + b.y) / 2 + (sameColumn ? 0 : bend);
      const startX = a.x + (sameColumn ? 0 : b.x > a.x ? 70 : -70);
      const endX = b.x + (sameColumn ? 0 : b.x > a.x ? -70 : 70);
      const startY = a.y + (sameColumn ? 16 * Math.sign(b.y - a.y || 1) : 0);
      const endY = b.y - (sameColumn ? 16 * Math.sign(b.y - a.y || 1) : 0);
      const d = `M${startX},${startY} Q${mx},${my} ${endX},${endY}`;
      const label = `${callProtocol(call)} · ${call.detectPoints.join(' | ')}`;
      const selected = this.call?.id === call.id ? ' selected' : '';
      parts.push(`<g class="net-call${selected}" data-call-id="${h(call.id)}" tabindex="0" role="button" aria-label="${h(label)}">
        <path class="net-call-hit" d="${d}"/>
        <path class="net-call-line" d="${d}" marker-end="url(#net-arrow)"/>
        <text class="net-call-label" x="${(startX + 2 * mx + endX) / 4}" y="${(startY + 2 * my + endY) / 4 - 6}" text-anchor="middle">${h(label)}</text>
        <title>${h(label)}: click for its metrics</title></g>`);
    });
    for (const n of topo.nodes) {
      const p = pos.get(n.id);
      parts.push(`<g class="net-node ${n.isReal ? 'real' : 'virtual'}" data-node-id="${h(n.id)}">
        <rect x="${p.x - 70}" y="${p.y - 16}" width="140" height="32" rx="6"/>
        <text x="${p.x}" y="${p.y + 5}" text-anchor="middle">${h(n.name.length > 20 ? `${n.name.slice(0, 19)}…` : n.name)}</text>
        <title>${h(n.name)} (${n.isReal ? 'process' : 'peer outside the instance'})</title></g>`);
    }
    box.innerHTML = `<svg class="net-svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="Process topology">${parts.join('')}</svg>`;
    for (const g of box.querySelectorAll('.net-call')) {
      const call = topo.calls.find((c) => c.id === g.dataset.callId);
      const open = () => this.ctx.guarded('Call metrics', () => this.openCall(call));
      g.addEventListener('click', open);
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') open();
      });
    }
  }

  // ---- one call: its metrics and sampled requests

  async openCall(call) {
    this.call = call;
    for (const g of this.root.querySelectorAll('.net-call')) g.classList.toggle('selected', g.dataset.callId === call.id);
    const nodes = new Map(this.topology.nodes.map((n) => [n.id, n]));
    const src = nodes.get(call.source);
    const dst = nodes.get(call.target);
    const panel = $('#net-call', this.root);
    panel.hidden = false;
    $('#net-call-title', this.root).textContent = `${src.name} → ${dst.name} (${callProtocol(call)}, ${call.detectPoints.join(' | ')})`;
    const charts = callCharts(call);
    const expressions = [...charts.map((c) => c.expression), ...SAMPLED.map((s) => s.expression)];
    const variables = {
      duration: minuteDuration(this.range, this.ctx.zone()),
      entity: {
        serviceName: src.serviceName, normal: true, serviceInstanceName: src.serviceInstanceName, processName: src.name,
        destServiceName: dst.serviceName, destNormal: true, destServiceInstanceName: dst.serviceInstanceName, destProcessName: dst.name,
      },
    };
    expressions.forEach((e, i) => {
      variables[`e${i}`] = e;
    });
    const data = await gql(expressionsQuery(expressions.length), variables);
    if (this.call !== call) return;
    const grid = $('#net-charts', this.root);
    grid.innerHTML = charts.map((c, i) => {
      const r = data[`e${i}`];
      const body = r.error ? `<p class="refused">${h(r.error)}</p>`
        : drawChart({ series: seriesOf(r, c.title), range: this.range, unit: c.unit, fmtTime: this.ctx.fmtTime, label: c.title, width: 450, height: 200 });
      return `<div class="net-chart" data-expression="${h(c.expression)}"><h4>${h(c.title)}</h4>${body}</div>`;
    }).join('');
    const rows = [];
    SAMPLED.forEach((s, k) => {
      const r = data[`e${charts.length + k}`];
      if (r.error) {
        rows.push(`<tr><td>${s.reason}</td><td colspan="3" class="refused">${h(r.error)}</td></tr>`);
        return;
      }
      for (const v of r.results[0]?.values || []) {
        const trace = v.traceID
          ? `<button type="button" class="link net-trace-open" data-trace="${h(v.traceID)}" title="Open the trace with the raw request and response">${h(v.traceID)}</button>`
          : '–';
        rows.push(`<tr class="net-sample"><td>${s.reason}</td><td class="ellipsis" title="${h(v.id)}">${h(v.id)}</td><td class="num">${h(v.value)} ms</td><td class="mono">${trace}</td></tr>`);
      }
    });
    $('#net-samples tbody', this.root).innerHTML = rows.length ? rows.join('')
      : '<tr><td colspan="4" class="muted">No sampled request on this call in this time range (Rover samples the requests its task\'s rules select).</td></tr>';
    $('#net-trace', this.root).hidden = true;
    for (const b of this.root.querySelectorAll('#net-samples .net-trace-open')) {
      b.addEventListener('click', () => this.ctx.guarded('Trace', () => this.openTrace(b.dataset.trace)));
    }
  }

  // ---- one sampled request's trace: spans in tree order, each with its attached events

  async openTrace(traceId) {
    this.traceId = traceId;
    const data = await gql(Q.trace, { traceId });
    if (this.traceId !== traceId) return;
    const panel = $('#net-trace', this.root);
    panel.hidden = false;
    $('#net-trace-title', this.root).textContent = `Trace ${traceId}`;
    const spans = data.trace?.spans || [];
    $('#net-trace-spans', this.root).innerHTML = spans.length ? traceHtml(spans)
      : '<p class="muted">No span of this trace is stored (its agent reports segments elsewhere, or they have expired); Rover\'s events are kept by trace and show once its spans arrive.</p>';
    panel.scrollIntoView({ block: 'nearest' });
  }
}

// An Instant as epoch milliseconds.
function instantMs(t) {
  return t ? t.seconds * 1000 + t.nanos / 1e6 : NaN;
}

// Each span's depth in the trace: by parent span inside a segment, by reference across them.
export function spanDepths(spans) {
  const key = (segment, span) => `${segment}/${span}`;
  const byKey = new Map(spans.map((s) => [key(s.segmentId, s.spanId), s]));
  const depth = new Map();
  const depthOf = (s, seen = new Set()) => {
    const k = key(s.segmentId, s.spanId);
    if (depth.has(k)) return depth.get(k);
    if (seen.has(k)) return 0;  // a cycle of parents: list it flat rather than lose it
    seen.add(k);
    let parent = s.parentSpanId >= 0 ? byKey.get(key(s.segmentId, s.parentSpanId)) : undefined;
    if (!parent && s.refs?.length) {
      const r = s.refs[s.refs.length - 1];
      parent = byKey.get(key(r.parentSegmentId, r.parentSpanId));
    }
    const d = parent ? depthOf(parent, seen) + 1 : 0;
    depth.set(k, d);
    return d;
  };
  return spans.map((s) => depthOf(s));
}

// The spans of a trace (queryTrace's order) with their attached events; an event carrying
// `data_content` (Rover's sampled raw request or response) shows it.
export function traceHtml(spans) {
  const start = Math.min(...spans.map((s) => s.startTime));
  const depths = spanDepths(spans);
  return spans.map((s, i) => {
    const events = (s.attachedEvents || []).map((e) => {
      const tags = new Map(e.tags.map((t) => [t.key, t.value]));
      const at = instantMs(e.startTime) - start;
      const took = instantMs(e.endTime) - instantMs(e.startTime);
      const shown = e.tags.filter((t) => t.key !== 'data_content').map((t) => `${h(t.key)}=${h(t.value)}`).join(' ');
      const summary = e.summary.map((t) => `${h(t.key)}=${h(t.value)}`).join(' ');
      const raw = tags.has('data_content')
        ? `<details class="net-raw-box"><summary>${h(tags.get('data_type') || 'data')} ${h(tags.get('data_direction') || '')} (${h(tags.get('data_size') || `${tags.get('data_content').length} B`)})</summary><pre class="net-raw">${h(tags.get('data_content'))}</pre></details>`
        : '';
      return `<li class="net-event"><strong>${h(e.event)}</strong> at +${at.toFixed(3)} ms${Number.isFinite(took) ? `, ${took.toFixed(3)} ms` : ''}`
        + ` <span class="muted mono">${shown}${summary ? ` · ${summary}` : ''}</span>${raw}</li>`;
    }).join('');
    return `<div class="net-span${s.isError ? ' error' : ''}" style="margin-left:${depths[i] * 1.2}rem">`
      + `<div class="net-span-head"><strong>${h(s.endpointName || '(no endpoint)')}</strong> · ${h(s.type)} · ${h(s.serviceCode)} / ${h(s.serviceInstanceName)}`
      + `${s.peer ? ` → ${h(s.peer)}` : ''} · +${s.startTime - start} ms, ${s.endTime - s.startTime} ms${s.isError ? ' · <span class="refused">error</span>' : ''}</div>`
      + (events ? `<ul class="net-events">${events}</ul>` : '')
      + '</div>';
  }).join('');
}
