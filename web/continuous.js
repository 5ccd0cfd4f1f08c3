// The continuous-profiling view of one service: its policy (edited in place, the server's refusal
// shown verbatim), the instances and processes Rover watches with their trigger counts, and a
// timeline of the tasks Rover triggered, with their causes, over the chart of the monitored
// metric (execExpression, thresholds drawn as lines). A triggered task opens its flame graph in
// one click through the page's eBPF view (`openFlame`), a NETWORK one its instance's topology in
// the network view (`openTopology`).

import { Q, gql } from './api.js';
import { drawChart, lastMinutes, minuteDuration, seriesOf } from './chart.js';
import { escapeHtml as h } from './flamegraph.js';

export const TARGET_TYPES = ['ON_CPU', 'OFF_CPU', 'NETWORK'];
export const MONITOR_TYPES = ['PROCESS_CPU', 'PROCESS_THREAD_COUNT', 'SYSTEM_LOAD', 'HTTP_ERROR_RATE', 'HTTP_AVG_RESPONSE_TIME'];
const HTTP_TYPES = new Set(['HTTP_ERROR_RATE', 'HTTP_AVG_RESPONSE_TIME']);

// The metric of each monitor type in the policy's unit (addendum §2.3: CPU is stored × 10000,
// load and error rate × 100).
const METRICS = {
  PROCESS_CPU: { expression: 'continuous_profiling_process_cpu/10000', unit: '%', label: 'Process CPU' },
  PROCESS_THREAD_COUNT: { expression: 'continuous_profiling_process_thread_count', unit: '', label: 'Threads' },
  SYSTEM_LOAD: { expression: 'continuous_profiling_system_load/100', unit: '', label: 'System load' },
  HTTP_ERROR_RATE: { expression: 'continuous_profiling_http_error_rate/100', unit: '%', label: 'HTTP error rate' },
  HTTP_AVG_RESPONSE_TIME: { expression: 'continuous_profiling_http_avg_response_time', unit: 'ms', label: 'HTTP avg. response time' },
};

const TASK_COLOURS = { ON_CPU: '#d9480f', OFF_CPU: '#5c7cfa', NETWORK: '#2b8a3e' };

const $ = (sel, root) => root.querySelector(sel);

// The threshold as a person reads it: "80%", "500ms", "3.5".
function thresholdText(type, threshold) {
  const unit = METRICS[type]?.unit || '';
  return `${threshold}${unit}`;
}

// An editable copy of the server's targets: [{type, checkItems: [{type, threshold, period, count, uriList: 'a, b', uriRegex}]}].
function editable(targets) {
  return targets.map((t) => ({
    type: t.type,
    checkItems: t.checkItems.map((i) => ({
      type: i.type,
      threshold: i.threshold,
      period: String(i.period),
      count: String(i.count),
      uriList: (i.uriList || []).join(', '),
      uriRegex: i.uriRegex || '',
    })),
  }));
}

// The mutation's targets from the editor. Values go as typed: the server validates them (and its
// messages are what the operator sees); only a period or count that is not a number is refused
// here, since the schema types them Int.
export function policyRequest(serviceId, targets) {
  const out = [];
  for (const t of targets) {
    const checkItems = [];
    for (const i of t.checkItems) {
      const item = { type: i.type, threshold: i.threshold.trim() };
      for (const k of ['period', 'count']) {
        const text = i[k].trim();
        if (!/^-?\d+$/.test(text)) throw new Error(`${i.type}: the ${k} "${i[k]}" is not a whole number`);
        item[k] = Number(text);
      }
      const uris = i.uriList.split(',').map((u) => u.trim()).filter(Boolean);
      item.uriList = HTTP_TYPES.has(i.type) && uris.length ? uris : null;
      item.uriRegex = HTTP_TYPES.has(i.type) && i.uriRegex.trim() ? i.uriRegex.trim() : null;
      checkItems.push(item);
    }
    out.push({ targetType: t.type, checkItems });
  }
  return { serviceId, targets: out };
}

export class ContinuousView {
  // `root` holds the view's markup (index.html #continuous-panel). `ctx`: {now(), zone(),
  // fmtTime(ms), guarded(context, fn), openFlame(task), openTopology(task)}.
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.serviceId = '';
    this.serviceName = '';
    this.targets = [];     // queryContinuousProfilingServiceTargets
    this.draft = [];       // the editor's copy
    this.instances = [];
    this.tasks = [];
    this.chartProcess = null;  // {instance, process} the chart is for
    this.chartChosen = false;  // the operator picked chartProcess; else it follows the latest task
    this.chartType = '';
    this.chartRange = null;
    this.wire();
  }

  wire() {
    const r = this.root;
    $('#cp-refresh', r).addEventListener('click', () => this.ctx.guarded('Continuous profiling', () => this.load()));
    $('#cp-add-target', r).addEventListener('click', () => {
      const used = new Set(this.draft.map((t) => t.type));
      const type = TARGET_TYPES.find((t) => !used.has(t)) || 'ON_CPU';
      this.draft.push({ type, checkItems: [this.newItem()] });
      this.renderEditor();
    });
    $('#cp-policy-form', r).addEventListener('submit', (e) => {
      e.preventDefault();
      this.ctx.guarded('Continuous profiling policy', () => this.save());
    });
    $('#cp-reset', r).addEventListener('click', () => {
      this.draft = editable(this.targets);
      this.renderEditor();
      this.message('', '');
    });
    $('#cp-monitor-target', r).addEventListener('change', () => this.ctx.guarded('Monitored instances', () => this.loadInstances()));
    $('#cp-metric', r).addEventListener('change', (e) => {
      this.chartType = e.target.value;
      this.ctx.guarded('Metric chart', () => this.loadChart());
    });
    $('#cp-range', r).addEventListener('change', () => this.ctx.guarded('Metric chart', () => this.loadChart()));
    $('#cp-process', r).addEventListener('change', (e) => {
      const [instance, process] = JSON.parse(e.target.value || 'null') || [null, null];
      this.chartProcess = instance ? { instance, process } : null;
      this.chartChosen = !!instance;
      this.ctx.guarded('Metric chart', () => this.loadChart());
    });
  }

  newItem() {
    return { type: 'PROCESS_CPU', threshold: '', period: '10', count: '3', uriList: '', uriRegex: '' };
  }

  message(text, cls) {
    const el = $('#cp-policy-message', this.root);
    el.textContent = text;
    el.className = `form-message ${cls}`;
  }

  async open(serviceId, serviceName) {
    this.serviceId = serviceId;
    this.serviceName = serviceName;
    this.chartProcess = null;
    this.chartChosen = false;
    this.chartType = '';
    this.message('', '');
    $('#cp-title', this.root).textContent = `Continuous profiling of ${serviceName}`;
    await this.load({ resetDraft: true });
  }

  async load({ resetDraft = false } = {}) {
    if (!this.serviceId) return;
    const [targets, tasks] = await Promise.all([
      gql(Q.continuousTargets, { serviceId: this.serviceId }),
      gql(Q.ebpfTasksWithCauses, { serviceId: this.serviceId, targets: [], triggerType: 'CONTINUOUS_PROFILING' }),
    ]);
    this.targets = targets.strategyList || [];
    if (resetDraft || !this.draft.length) this.draft = editable(this.targets);
    this.tasks = (tasks.queryEBPFTasks || []).slice().sort((a, b) => Number(b.taskStartTime) - Number(a.taskStartTime));
    this.renderEditor();
    this.renderTargetsSummary();
    const select = $('#cp-monitor-target', this.root);
    const offered = this.targets.map((t) => t.type);
    const keep = offered.includes(select.value) ? select.value : offered[0];
    select.innerHTML = offered.length ? offered.map((t) => `<option>${h(t)}</option>`).join('') : '<option value="">no policy</option>';
    select.value = keep || '';
    await this.loadInstances();
    await this.loadChart();
  }

  // ---- the policy editor

  renderEditor() {
    const box = $('#cp-targets', this.root);
    box.innerHTML = '';
    if (!this.draft.length) box.innerHTML = `<p class="muted">No policy: Rover watches nothing for this service. Add a target to start.</p>`;
    this.draft.forEach((target, ti) => {
      const fs = document.createElement('fieldset');
      fs.className = 'cp-target';
      fs.innerHTML = `
        <legend>Target <select class="cp-target-type" aria-label="Target type">${TARGET_TYPES.map((t) => `<option ${t === target.type ? 'selected' : ''}>${t}</option>`).join('')}</select>
          <button type="button" class="cp-remove-target" title="Remove this target">Remove target</button></legend>
        <div class="cp-items"></div>
        <button type="button" class="cp-add-item">Add monitor item</button>`;
      $('.cp-target-type', fs).addEventListener('change', (e) => {
        target.type = e.target.value;
      });
      $('.cp-remove-target', fs).addEventListener('click', () => {
        this.draft.splice(ti, 1);
        this.renderEditor();
      });
      $('.cp-add-item', fs).addEventListener('click', () => {
        target.checkItems.push(this.newItem());
        this.renderEditor();
      });
      const items = $('.cp-items', fs);
      target.checkItems.forEach((item, ii) => {
        const row = document.createElement('div');
        row.className = 'row cp-item';
        const http = HTTP_TYPES.has(item.type);
        row.innerHTML = `
          <label>Monitor <select data-k="type">${MONITOR_TYPES.map((m) => `<option ${m === item.type ? 'selected' : ''}>${m}</option>`).join('')}</select></label>
          <label>Threshold <input data-k="threshold" value="${h(item.threshold)}" size="6" placeholder="80"></label>
          <label>Period (s) <input data-k="period" value="${h(item.period)}" size="3"></label>
          <label>Count <input data-k="count" value="${h(item.count)}" size="3"></label>
          <label ${http ? '' : 'hidden'}>URI list <input data-k="uriList" value="${h(item.uriList)}" placeholder="/a, /b"></label>
          <label ${http ? '' : 'hidden'}>URI regex <input data-k="uriRegex" value="${h(item.uriRegex)}" placeholder="/api/.*"></label>
          <button type="button" class="cp-remove-item" title="Remove this item">×</button>`;
        for (const input of row.querySelectorAll('[data-k]')) {
          input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', () => {
            item[input.dataset.k] = input.value;
            if (input.dataset.k === 'type') this.renderEditor();
          });
        }
        $('.cp-remove-item', row).addEventListener('click', () => {
          target.checkItems.splice(ii, 1);
          this.renderEditor();
        });
        items.append(row);
      });
      box.append(fs);
    });
  }

  async save() {
    let request;
    try {
      request = policyRequest(this.serviceId, this.draft);
    } catch (err) {
      this.message(err.message, 'refused');
      return;
    }
    this.message('Saving…', '');
    const data = await gql(Q.setContinuousPolicy, { request });
    const result = data.strategy;
    if (!result.status) {
      this.message(result.errorReason || 'refused without a reason', 'refused');
      return;
    }
    // Said once the view shows what was stored.
    await this.load({ resetDraft: true });
    this.message(request.targets.length ? 'Policy saved: Rover picks it up at its next poll.' : 'Policy cleared.', 'ok');
  }

  renderTargetsSummary() {
    const list = $('#cp-target-summary', this.root);
    list.innerHTML = this.targets.map((t) => `
      <li><b>${h(t.type)}</b>: ${t.checkItems.map((i) => `${h(i.type)} >= ${h(thresholdText(i.type, i.threshold))} (${i.count} of ${i.period} s${i.uriList?.length ? ` on ${h(i.uriList.join(', '))}` : ''}${i.uriRegex ? ` on ${h(i.uriRegex)}` : ''})`).join('; ')}
        <span class="muted">· triggered ${t.triggeredCount}×${t.lastTriggerTimestamp ? `, last ${h(this.ctx.fmtTime(t.lastTriggerTimestamp))}` : ''}</span></li>`).join('');
  }

  // ---- watched instances and processes

  async loadInstances() {
    const target = $('#cp-monitor-target', this.root).value;
    const body = $('#cp-instances tbody', this.root);
    if (!target) {
      this.instances = [];
      body.innerHTML = `<tr><td colspan="5" class="muted">Set a policy to see which processes Rover watches.</td></tr>`;
      this.renderProcessChoice();
      return;
    }
    const data = await gql(Q.continuousInstances, { serviceId: this.serviceId, target });
    this.instances = (data.instances || []).slice().sort((a, b) => Number(b.lastTriggerTimestamp || 0) - Number(a.lastTriggerTimestamp || 0));
    body.innerHTML = '';
    if (!this.instances.length) body.innerHTML = `<tr><td colspan="5" class="muted">No instance of this service has a process Rover can profile.</td></tr>`;
    const last = (ms) => (ms ? h(this.ctx.fmtTime(ms)) : '<span class="muted">never</span>');
    for (const inst of this.instances) {
      const tr = document.createElement('tr');
      tr.className = 'cp-instance-row';
      tr.innerHTML = `<td colspan="2"><b>${h(inst.name)}</b></td><td class="muted">instance</td><td class="num">${inst.triggeredCount}</td><td class="time">${last(inst.lastTriggerTimestamp)}</td>`;
      body.append(tr);
      for (const p of inst.processes) {
        const row = document.createElement('tr');
        row.className = 'cp-process-row';
        row.dataset.processId = p.id;
        row.dataset.instance = inst.name;
        row.dataset.process = p.name;
        row.title = 'Show this process in the chart';
        row.innerHTML = `<td></td><td>${h(p.name)}</td><td>${h(p.labels.join(' '))}</td><td class="num">${p.triggeredCount}</td><td class="time">${last(p.lastTriggerTimestamp)}</td>`;
        row.addEventListener('click', () => {
          this.chartProcess = { instance: inst.name, process: p.name };
          this.chartChosen = true;
          this.renderProcessChoice();
          this.ctx.guarded('Metric chart', () => this.loadChart());
        });
        body.append(row);
      }
    }
    this.renderProcessChoice();
  }

  // The processes the chart may show: the watched ones and those of triggered tasks.
  processChoices() {
    const seen = new Map();
    for (const inst of this.instances) for (const p of inst.processes) seen.set(JSON.stringify([inst.name, p.name]), `${p.name} (${inst.name})`);
    for (const t of this.tasks) seen.set(JSON.stringify([t.serviceInstanceName, t.processName]), `${t.processName} (${t.serviceInstanceName})`);
    return seen;
  }

  renderProcessChoice() {
    const choices = this.processChoices();
    if (!this.chartChosen) {
      const first = this.tasks[0] ? [this.tasks[0].serviceInstanceName, this.tasks[0].processName] : JSON.parse([...choices.keys()][0] || 'null');
      this.chartProcess = first ? { instance: first[0], process: first[1] } : null;
    }
    const select = $('#cp-process', this.root);
    select.innerHTML = choices.size ? [...choices].map(([k, label]) => `<option value="${h(k)}">${h(label)}</option>`).join('') : '<option value="">no process</option>';
    if (this.chartProcess) select.value = JSON.stringify([this.chartProcess.instance, this.chartProcess.process]);
    for (const row of this.root.querySelectorAll('.cp-process-row')) {
      const p = this.chartProcess;
      row.classList.toggle('selected', !!p && row.dataset.instance === p.instance && row.dataset.process === p.process);
    }
  }

  // ---- the timeline: the metric, its thresholds and the triggered tasks

  monitoredTypes() {
    const types = new Set();
    for (const t of this.targets) for (const i of t.checkItems) types.add(i.type);
    for (const task of this.tasks) for (const c of task.continuousProfilingCauses || []) types.add(c.type);
    return MONITOR_TYPES.filter((m) => types.has(m));
  }

  async loadChart() {
    const types = this.monitoredTypes();
    const metricSelect = $('#cp-metric', this.root);
    if (!types.includes(this.chartType)) this.chartType = types[0] || '';
    metricSelect.innerHTML = types.length ? types.map((m) => `<option value="${m}">${h(METRICS[m].label)} (${m})</option>`).join('') : '<option value="">nothing monitored</option>';
    metricSelect.value = this.chartType;
    const chart = $('#cp-chart', this.root);
    const proc = this.chartProcess;
    this.chartRange = lastMinutes(this.ctx.now(), Number($('#cp-range', this.root).value));
    this.renderTasks();
    if (!this.chartType || !proc) {
      chart.innerHTML = `<p class="muted">No monitored metric yet.</p>`;
      return;
    }
    const metric = METRICS[this.chartType];
    const zone = this.ctx.zone();
    const data = await gql(Q.expression, {
      expression: metric.expression,
      entity: { serviceName: this.serviceName, normal: true, serviceInstanceName: proc.instance, processName: proc.process },
      duration: minuteDuration(this.chartRange, zone),
    });
    const result = data.result;
    if (result.error) {
      chart.innerHTML = `<p class="refused">${h(result.error)}</p>`;
      return;
    }
    const series = seriesOf(result, metric.label);
    const thresholds = [];
    for (const t of this.targets) {
      for (const i of t.checkItems) {
        if (i.type === this.chartType && Number.isFinite(Number(i.threshold))) thresholds.push({ value: Number(i.threshold), label: `${t.type} threshold ${thresholdText(i.type, i.threshold)}` });
      }
    }
    const marks = this.tasks.filter((t) => t.processName === proc.process && t.serviceInstanceName === proc.instance).map((t) => ({
      id: t.taskId,
      start: Number(t.taskStartTime),
      end: Number(t.taskStartTime) + Number(t.fixedTriggerDuration || 0) * 1000,
      colour: TASK_COLOURS[t.targetType] || '#555',
      title: `${t.targetType} task at ${this.ctx.fmtTime(t.taskStartTime)}: ${(t.continuousProfilingCauses || []).map((c) => c.message).join('; ')}`,
    }));
    chart.innerHTML = drawChart({ series, thresholds, marks, range: this.chartRange, unit: metric.unit, fmtTime: this.ctx.fmtTime, label: 'Monitored metric' });
    chart.dataset.series = String(series.length);
    chart.dataset.points = String(series.reduce((n, s) => n + s.points.filter((p) => p.v !== null).length, 0));
  }

  renderTasks() {
    const list = $('#cp-task-list', this.root);
    if (!this.tasks.length) {
      list.innerHTML = `<li class="muted empty-item">No task triggered yet: Rover starts one when a rule of the policy matches.</li>`;
      return;
    }
    list.innerHTML = '';
    for (const task of this.tasks) {
      const li = document.createElement('li');
      li.className = 'task cp-task';
      li.dataset.taskId = task.taskId;
      const causes = (task.continuousProfilingCauses || []).map((c) => `<li class="cp-cause">${h(c.message)}</li>`).join('');
      const canFlame = task.targetType === 'ON_CPU' || task.targetType === 'OFF_CPU';
      li.innerHTML = `
        <div class="cp-task-head">
          <span class="cp-swatch" style="background:${TASK_COLOURS[task.targetType] || '#555'}"></span>
          <span class="task-title">${h(task.targetType)} on ${h(task.processName || '–')} <span class="muted">(${h(task.serviceInstanceName || '')})</span></span>
          <span class="task-meta">${h(this.ctx.fmtTime(task.taskStartTime))} · ${Number(task.fixedTriggerDuration || 0)} s</span>
          ${canFlame ? '<button type="button" class="cp-flame primary">Flame graph</button>' : '<button type="button" class="cp-topology primary">Topology</button>'}
        </div>
        <ul class="cp-causes">${causes}</ul>`;
      if (canFlame) $('.cp-flame', li).addEventListener('click', () => this.ctx.guarded('Flame graph', () => this.ctx.openFlame(task)));
      else $('.cp-topology', li).addEventListener('click', () => this.ctx.guarded('Process topology', () => this.ctx.openTopology(task)));
      list.append(li);
    }
  }
}
