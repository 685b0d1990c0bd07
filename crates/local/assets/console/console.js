// The durapipe console. No framework, no network beyond this origin. Every value from the
// stack is put into the page with textContent (never innerHTML): message bodies, item
// attributes, error messages and execution names are hostile input.
'use strict';

(() => {
  const app = document.getElementById('app');
  const toastBox = document.getElementById('toast');
  const PAGE = 25;
  const OPS_PAGE = 200;
  const HISTORY_PAGE = 50;
  const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'STOPPED'];
  let config = null;
  let timers = [];
  let generation = 0;

  // ---- DOM helpers --------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = String(value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, ...children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function replace(node, ...children) {
    node.replaceChildren();
    return append(node, children);
  }

  function badge(status) {
    return el('span', { class: `badge st-${status}`, 'data-status': status, text: status });
  }

  function pre(text) {
    return el('pre', { text: pretty(text) });
  }

  function pretty(text) {
    if (text === undefined || text === null) return '';
    if (typeof text !== 'string') return JSON.stringify(text, null, 2);
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  function toast(message, bad) {
    toastBox.textContent = message;
    toastBox.className = bad ? 'bad' : '';
    toastBox.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { toastBox.hidden = true; }, bad ? 8000 : 4000);
  }

  function every(ms, fn) {
    timers.push(setInterval(fn, ms));
  }

  function ready(page) {
    app.dataset.page = page;
    app.dataset.state = 'ready';
  }

  // ---- formatting ---------------------------------------------------------------------------

  function fmtTime(epochMs) {
    if (epochMs === undefined || epochMs === null || Number.isNaN(epochMs)) return '';
    return new Date(epochMs).toISOString().replace('T', ' ').replace('Z', '');
  }

  function fmtDuration(ms) {
    if (ms === undefined || ms === null || Number.isNaN(ms)) return '';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
    return `${Math.floor(ms / 3600000)} h ${Math.round((ms % 3600000) / 60000)} min`;
  }

  function fmtBytes(n) {
    if (n === undefined || n === null) return '–';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
  }

  // Lambda timestamps are epoch seconds (numbers) or RFC 3339 strings.
  function ms(timestamp) {
    if (timestamp === undefined || timestamp === null) return undefined;
    if (typeof timestamp === 'number') return timestamp * 1000;
    return Date.parse(timestamp);
  }

  // ---- the stack's APIs ---------------------------------------------------------------------

  async function send(url, init, what) {
    const response = await fetch(url, init);
    const text = await response.text();
    let data = {};
    if (text) {
      try { data = JSON.parse(text); } catch { data = { message: text }; }
    }
    if (!response.ok) {
      const type = String(data.__type || data.Type || response.headers.get('x-amzn-errortype') || response.status)
        .split('#').pop();
      throw new Error(`${what}: ${type}: ${data.message || data.Message || text}`);
    }
    return data;
  }

  function aws(target, body) {
    return send('/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target },
      body: JSON.stringify(body),
    }, target.split('.').pop());
  }
  const sqs = (op, body) => aws(`AmazonSQS.${op}`, body);
  const ddb = (op, body) => aws(`DynamoDB_20120810.${op}`, body);

  function query(params) {
    const q = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null || value === '') continue;
      for (const v of Array.isArray(value) ? value : [value]) q.append(key, v);
    }
    const text = q.toString();
    return text ? `?${text}` : '';
  }

  function lambda(method, path, params, body) {
    const init = { method };
    if (body !== undefined) {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = body;
    }
    return send(`/2025-12-01/${path}${query(params || {})}`, init, path.split('/')[0]);
  }

  const executionPath = (arn) => `durable-executions/${encodeURIComponent(arn)}`;

  function consoleGet(path, params) {
    return send(`/_durapipe/console/${path}${query(params || {})}`, {}, path);
  }

  function consolePost(path, body) {
    return send(`/_durapipe/console/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-durapipe-console': '1' },
      body: JSON.stringify(body),
    }, path);
  }

  async function metrics() {
    const response = await fetch('/metrics');
    if (!response.ok) throw new Error(`metrics: HTTP ${response.status}`);
    const out = [];
    for (const line of (await response.text()).split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
      if (!m) continue;
      const labels = {};
      for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
      out.push({ name: m[1], labels, value: Number(m[3]) });
    }
    const one = (name, labels) => {
      const hit = out.find((s) => s.name === name
        && Object.entries(labels || {}).every(([k, v]) => s.labels[k] === v));
      return hit ? hit.value : undefined;
    };
    return { samples: out, one };
  }

  // ---- router -------------------------------------------------------------------------------

  function route() {
    timers.forEach(clearInterval);
    timers = [];
    generation += 1;
    const hash = location.hash.slice(1) || '/overview';
    const [path, search] = hash.split('?');
    const params = new URLSearchParams(search || '');
    const parts = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    const page = parts[0] || 'overview';
    for (const a of document.querySelectorAll('nav a')) {
      const active = a.dataset.nav === page || (page === 'execution' && a.dataset.nav === 'executions')
        || (page === 'item' && a.dataset.nav === 'table');
      a.classList.toggle('active', active);
    }
    app.dataset.state = 'loading';
    app.dataset.page = page;
    const pages = {
      overview: () => overview(),
      executions: () => executions(params),
      execution: () => execution(parts[1] || ''),
      'dead-letters': () => deadLetters(),
      table: () => table(params),
      item: () => item(parts[1] || ''),
    };
    const render = pages[page] || (() => { replace(app, el('p', { text: `No page ${page}.` })); ready(page); });
    const mine = generation;
    Promise.resolve(render()).catch((e) => {
      if (mine !== generation) return;
      replace(app, el('p', { class: 'error', text: e.message }));
      app.dataset.state = 'error';
    });
  }

  const current = () => generation;

  // ---- overview -----------------------------------------------------------------------------

  const samples = [];

  async function overview() {
    const mine = current();
    const cards = el('div', { class: 'cards' });
    const canvas = el('canvas', { class: 'chart', width: 1200, height: 180 });
    const statusLine = el('p', { class: 'muted' });
    replace(app, el('h2', { text: 'Overview' }), cards,
      el('h3', { text: 'Throughput and checkpoint latency (since this page opened)' }), canvas, statusLine);
    const refresh = async () => {
      const [m, queue, dlq] = await Promise.all([
        metrics(),
        sqs('GetQueueAttributes', { QueueUrl: config.QueueUrl, AttributeNames: ['All'] }),
        sqs('GetQueueAttributes', { QueueUrl: config.DeadLetterQueueUrl, AttributeNames: ['All'] }),
      ]);
      if (mine !== current()) return;
      const qa = queue.Attributes || {};
      const da = dlq.Attributes || {};
      const card = (label, value, sub, id) => el('div', { class: 'card', 'data-card': id },
        el('div', { class: 'label', text: label }), el('div', { class: 'value', text: value }),
        sub ? el('div', { class: 'sub', text: sub }) : null);
      const exec = (s) => m.one('durapipe_executions', { status: s }) ?? 0;
      replace(cards,
        card('Visible', qa.ApproximateNumberOfMessages ?? '–', config.Queue, 'visible'),
        card('In flight', qa.ApproximateNumberOfMessagesNotVisible ?? '–', 'received, not yet deleted', 'in-flight'),
        card('Delayed', qa.ApproximateNumberOfMessagesDelayed ?? '–', 'sent with a delay', 'delayed'),
        card('Dead letters', m.one('durapipe_dlq_messages') ?? '–', config.DeadLetterQueue, 'dlq'),
        ...STATUSES.map((s) => card(`Executions ${s.toLowerCase().replace('_', ' ')}`, exec(s), null, `exec-${s}`)),
        card('Processed', m.one('durapipe_messages_processed_total') ?? 0,
          `${m.one('durapipe_messages_failed_total') ?? 0} failed attempts`, 'processed'),
        card('RSS', fmtBytes(m.one('process_resident_memory_bytes')), 'resident memory', 'rss'),
        card('Database', fmtBytes(m.one('durapipe_db_size_bytes')), 'file and WAL', 'db'),
        card('Time scale', `${config.TimeScale}×`, 'durable time vs wall clock', 'time-scale'));
      samples.push({
        t: Date.now(),
        done: (m.one('durapipe_messages_processed_total') ?? 0) + (m.one('durapipe_messages_failed_total') ?? 0),
        cpSum: m.one('durapipe_checkpoint_latency_seconds_sum') ?? 0,
        cpCount: m.one('durapipe_checkpoint_latency_seconds_count') ?? 0,
      });
      while (samples.length > 150) samples.shift();
      drawChart(canvas);
      statusLine.textContent = `Updated ${new Date().toLocaleTimeString()} · every 2 s`;
      ready('overview');
    };
    await refresh();
    every(2000, () => refresh().catch((e) => { statusLine.textContent = e.message; }));
  }

  function drawChart(canvas) {
    const ctx = canvas.getContext('2d');
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const points = [];
    for (let i = 1; i < samples.length; i += 1) {
      const a = samples[i - 1];
      const b = samples[i];
      const dt = (b.t - a.t) / 1000;
      const n = b.cpCount - a.cpCount;
      points.push({
        rate: dt > 0 ? Math.max(0, (b.done - a.done) / dt) : 0,
        latency: n > 0 ? ((b.cpSum - a.cpSum) / n) * 1000 : null,
      });
    }
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#6b7280';
    if (points.length < 2) {
      ctx.fillText('Collecting samples…', 12, 20);
      return;
    }
    const left = 50;
    const right = w - 50;
    const top = 20;
    const bottom = h - 20;
    const maxRate = Math.max(1, ...points.map((p) => p.rate));
    const maxLatency = Math.max(1, ...points.map((p) => p.latency || 0));
    const x = (i) => left + ((right - left) * i) / Math.max(1, points.length - 1);
    ctx.strokeStyle = '#e3e6eb';
    ctx.beginPath();
    ctx.moveTo(left, bottom);
    ctx.lineTo(right, bottom);
    ctx.stroke();
    const line = (color, value, max) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let started = false;
      points.forEach((p, i) => {
        const v = value(p);
        if (v === null) return;
        const y = bottom - ((bottom - top) * v) / max;
        if (started) ctx.lineTo(x(i), y); else ctx.moveTo(x(i), y);
        started = true;
      });
      ctx.stroke();
    };
    line('#2f6fd6', (p) => p.rate, maxRate);
    line('#d99a1e', (p) => p.latency, maxLatency);
    ctx.fillStyle = '#2f6fd6';
    ctx.fillText(`${maxRate.toFixed(1)} msg/s`, 4, top);
    ctx.fillText(`messages/s now ${points[points.length - 1].rate.toFixed(1)}`, left, h - 4);
    ctx.fillStyle = '#d99a1e';
    ctx.textAlign = 'right';
    ctx.fillText(`${maxLatency.toFixed(1)} ms`, w - 4, top);
    ctx.textAlign = 'left';
    const last = [...points].reverse().find((p) => p.latency !== null);
    ctx.fillText(`checkpoint latency ${last ? last.latency.toFixed(2) : '–'} ms`, left + 220, h - 4);
  }

  // ---- executions list ----------------------------------------------------------------------

  const markerStack = [];

  async function executions(params) {
    const mine = current();
    const fn = params.get('function') || config.Functions.Orchestrator;
    const status = params.get('status') || '';
    const name = params.get('name') || '';
    const after = params.get('after') || '';
    const before = params.get('before') || '';
    const marker = params.get('marker') || '';
    const input = (id, label, value, type) => el('label', { text: label },
      el('input', { id, name: id, value, type: type || 'text' }));
    const statusSelect = el('select', { id: 'f-status' },
      el('option', { value: '', text: 'any' }),
      STATUSES.map((s) => el('option', { value: s, text: s, selected: s === status })));
    const form = el('form', { class: 'filters', onsubmit: (e) => {
      e.preventDefault();
      const get = (id) => document.getElementById(id).value;
      markerStack.length = 0;
      location.hash = `#/executions${query({
        function: get('f-function'), status: get('f-status'), name: get('f-name'),
        after: get('f-after'), before: get('f-before'),
      })}`;
    } },
    input('f-function', 'Function', fn),
    el('label', { text: 'Status' }, statusSelect),
    input('f-name', 'Name (exact)', name),
    input('f-after', 'Started after', after, 'datetime-local'),
    input('f-before', 'Started before', before, 'datetime-local'),
    el('button', { class: 'primary', type: 'submit', text: 'Apply' }));
    const body = el('tbody');
    const pager = el('div', { class: 'pager' });
    replace(app, el('h2', { text: 'Executions' }), form,
      el('table', { id: 'executions' }, el('thead', {}, el('tr', {},
        ['Name', 'Status', 'Started', 'Duration'].map((h) => el('th', { text: h })))), body), pager);
    const iso = (local) => (local ? new Date(local).toISOString() : undefined);
    const page = await lambda('GET', `functions/${encodeURIComponent(fn)}/durable-executions`, {
      Statuses: status || undefined,
      DurableExecutionName: name || undefined,
      StartedAfter: iso(after),
      StartedBefore: iso(before),
      ReverseOrder: 'true',
      MaxItems: PAGE,
      Marker: marker || undefined,
    });
    if (mine !== current()) return;
    const list = page.DurableExecutions || [];
    if (!list.length) body.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No executions.' })));
    for (const e of list) {
      const start = ms(e.StartTimestamp);
      const end = ms(e.EndTimestamp);
      body.append(el('tr', { 'data-arn': e.DurableExecutionArn },
        el('td', {}, el('a', { href: `#/execution/${encodeURIComponent(e.DurableExecutionArn)}`, text: e.DurableExecutionName })),
        el('td', {}, badge(e.Status)),
        el('td', { class: 'mono', text: fmtTime(start) }),
        el('td', { class: 'num', text: end ? fmtDuration(end - start) : 'running' })));
    }
    const go = (m) => {
      location.hash = `#/executions${query({ function: params.get('function'), status, name, after, before, marker: m })}`;
    };
    append(pager,
      el('button', { text: '← Newer', disabled: !marker, onclick: () => go(markerStack.pop() || '') }),
      el('button', { text: 'Older →', disabled: !page.NextMarker, onclick: () => { markerStack.push(marker); go(page.NextMarker); } }),
      el('span', { class: 'muted', text: `${list.length} shown, newest first` }));
    ready('executions');
  }

  // ---- one execution ------------------------------------------------------------------------

  async function execution(arn) {
    const mine = current();
    const state = { opsOffset: 0, historyMarkers: [], historyMarker: '', callbackIds: '' };
    const head = el('section', { class: 'panel', id: 'execution-head' });
    const data = el('section', { class: 'panel', id: 'execution-data' });
    const callbacks = el('section', { class: 'panel', id: 'callbacks', hidden: true });
    const timeline = el('section', { class: 'panel', id: 'timeline' });
    const history = el('section', { class: 'panel', id: 'history' });
    replace(app, head, callbacks, timeline, data, history);

    const loadSummary = async () => {
      const e = await lambda('GET', executionPath(arn), { IncludeExecutionData: 'true' });
      if (mine !== current()) return null;
      renderHead(head, e, async () => {
        try {
          await lambda('POST', `${executionPath(arn)}/stop`, {}, '{}');
          toast('Execution stopped.');
          await refresh();
        } catch (err) { toast(err.message, true); }
      });
      replace(data, el('h3', { text: 'Input' }), pre(e.InputPayload),
        e.Result !== undefined ? [el('h3', { text: 'Result' }), pre(e.Result)] : null,
        e.Error ? [el('h3', { text: 'Error' }), el('pre', { class: 'error', id: 'execution-error', text: pretty(e.Error) })] : null);
      return e;
    };
    const loadOperations = async (e) => {
      const page = await consoleGet('operations', {
        DurableExecutionArn: arn, Offset: state.opsOffset, MaxItems: OPS_PAGE,
      });
      if (mine !== current()) return;
      renderTimeline(timeline, e, page, state.opsOffset, (offset) => {
        state.opsOffset = offset;
        loadOperations(e).catch((err) => toast(err.message, true));
      });
      renderCallbacks(callbacks, page.Operations || [], state, refresh);
    };
    const loadHistory = async () => {
      const page = await lambda('GET', `${executionPath(arn)}/history`, {
        MaxItems: HISTORY_PAGE, Marker: state.historyMarker || undefined, IncludeExecutionData: 'true',
      });
      if (mine !== current()) return;
      renderHistory(history, page, state, () => loadHistory().catch((err) => toast(err.message, true)));
    };
    const refresh = async () => {
      const e = await loadSummary();
      if (!e) return;
      await Promise.all([loadOperations(e), loadHistory()]);
      return e;
    };
    const e = await refresh();
    ready('execution');
    if (e && e.Status === 'RUNNING') {
      let busy = false;
      every(2000, async () => {
        if (busy) return;
        busy = true;
        try {
          const now = await refresh();
          if (now && now.Status !== 'RUNNING') timers.forEach(clearInterval);
        } catch (err) { toast(err.message, true); } finally { busy = false; }
      });
    }
  }

  function renderHead(head, e, stop) {
    const start = ms(e.StartTimestamp);
    const end = ms(e.EndTimestamp);
    replace(head,
      el('h2', {}, el('span', { id: 'execution-name', text: e.DurableExecutionName }), ' ', badge(e.Status)),
      el('dl', { class: 'facts' },
        el('dt', { text: 'ARN' }), el('dd', { class: 'mono', text: e.DurableExecutionArn }),
        el('dt', { text: 'Function' }), el('dd', { class: 'mono', text: e.FunctionArn }),
        el('dt', { text: 'Started' }), el('dd', { class: 'mono', text: fmtTime(start) }),
        el('dt', { text: 'Ended' }), el('dd', { class: 'mono', text: end ? fmtTime(end) : '–' }),
        el('dt', { text: 'Duration' }), el('dd', { text: end ? fmtDuration(end - start) : 'running' })),
      e.Status === 'RUNNING'
        ? el('div', { class: 'actions' }, el('button', { class: 'danger', id: 'stop-execution', text: 'Stop execution', onclick: stop }))
        : null);
  }

  function opName(op) {
    return op.Name || (op.Type === 'EXECUTION' ? 'execution' : op.Id);
  }

  function renderTimeline(section, e, page, offset, go) {
    const ops = page.Operations || [];
    let t0 = ms(e.StartTimestamp);
    let t1 = ms(e.EndTimestamp) || Date.now();
    for (const op of ops) {
      t0 = Math.min(t0, ms(op.StartTimestamp));
      t1 = Math.max(t1, ms(op.EndTimestamp) || ms(op.StartTimestamp));
    }
    const span = Math.max(1, t1 - t0);
    const legend = el('div', { class: 'legend' },
      ['SUCCEEDED', 'STARTED', 'PENDING', 'FAILED', 'TIMED_OUT', 'STOPPED', 'CANCELLED'].map((s) =>
        el('span', {}, el('i', { class: `st-${s}` }), s.toLowerCase().replace('_', ' '))),
      el('span', { text: 'striped: wait · dashed: callback · faint: context' }));
    const ticks = el('div', { class: 'ticks' });
    for (let i = 0; i <= 4; i += 1) {
      const tick = el('span', { text: `+${fmtDuration((span * i) / 4)}` });
      tick.style.left = `${i * 25}%`;
      ticks.append(tick);
    }
    const rows = ops.map((op) => {
      const start = ms(op.StartTimestamp);
      const running = op.EndTimestamp === undefined;
      const end = running ? t1 : ms(op.EndTimestamp);
      const details = [];
      const step = op.StepDetails || {};
      if (step.Attempt) details.push(`attempt ${step.Attempt}`);
      if (op.WaitDetails && op.WaitDetails.ScheduledEndTimestamp) {
        details.push(`wait until ${fmtTime(ms(op.WaitDetails.ScheduledEndTimestamp))}`);
      }
      const error = (step.Error || (op.ContextDetails || {}).Error || (op.ChainedInvokeDetails || {}).Error
        || (op.CallbackDetails || {}).Error);
      if (error) details.push(`${error.ErrorType || 'error'}: ${error.ErrorMessage || ''}`);
      const title = [`${opName(op)} · ${op.Type}${op.SubType ? ` (${op.SubType})` : ''} · ${op.Status}`,
        `${running ? 'running for' : 'took'} ${fmtDuration(end - start)}, started at +${fmtDuration(start - t0)}`,
        ...details].join('\n');
      const bar = el('div', {
        class: `tl-bar st-${op.Status} ty-${op.Type}`,
        title,
        'data-operation-id': op.Id,
        'data-operation-name': op.Name || '',
        'data-operation-type': op.Type,
        'data-operation-subtype': op.SubType || '',
        'data-parent-id': op.ParentId || '',
        'data-status': op.Status,
        'data-start-ms': start,
        'data-end-ms': running ? '' : end,
      });
      bar.style.left = `${((start - t0) / span) * 100}%`;
      bar.style.width = `${Math.max(0.15, ((end - start) / span) * 100)}%`;
      const label = el('div', { class: 'tl-label', title },
        opName(op), el('span', { class: 'type', text: (op.SubType || op.Type).toLowerCase() }));
      label.style.paddingLeft = `${(op.Depth || 0) * 14}px`;
      return el('div', { class: 'tl-row' }, label, el('div', { class: 'tl-track' }, bar),
        el('div', { class: 'tl-dur', text: running ? 'running' : fmtDuration(end - start) }));
    });
    const total = page.Total || 0;
    replace(section,
      el('h3', { text: `Timeline — operations ${total ? offset + 1 : 0}–${offset + ops.length} of ${total}` }),
      legend,
      el('div', { class: 'timeline', 'data-total': total },
        el('div', { class: 'tl-axis' }, el('span', { text: 'operation' }), ticks, el('span', { text: 'duration' })),
        rows),
      el('div', { class: 'pager' },
        el('button', { id: 'ops-prev', text: '← Earlier operations', disabled: offset === 0, onclick: () => go(Math.max(0, offset - OPS_PAGE)) }),
        el('button', { id: 'ops-next', text: 'Later operations →', disabled: page.NextOffset === undefined, onclick: () => go(page.NextOffset) })));
  }

  function renderCallbacks(section, ops, state, refresh) {
    const open = ops.filter((op) => op.Type === 'CALLBACK' && op.Status === 'STARTED'
      && op.CallbackDetails && op.CallbackDetails.CallbackId);
    const ids = open.map((op) => op.CallbackDetails.CallbackId).join(',');
    if (ids === state.callbackIds) return;
    state.callbackIds = ids;
    section.hidden = open.length === 0;
    const act = async (id, action, body) => {
      try {
        await lambda('POST', `durable-execution-callbacks/${encodeURIComponent(id)}/${action}`, {}, body);
        toast(`Callback ${action} sent.`);
        await refresh();
      } catch (err) { toast(err.message, true); }
    };
    replace(section, el('h3', { text: 'Open callbacks' }), open.map((op) => {
      const id = op.CallbackDetails.CallbackId;
      const payload = el('textarea', { class: 'callback-payload', 'aria-label': 'result payload (JSON)' });
      payload.value = '{"approved": true}';
      const message = el('input', { class: 'callback-error', placeholder: 'error message', value: 'rejected in the console' });
      return el('div', { class: 'callback', 'data-callback-id': id },
        el('div', {}, el('strong', { text: opName(op) }), ' ', el('code', { text: id })),
        el('label', { class: 'muted', text: 'Result payload' }), payload,
        el('div', { class: 'actions' },
          el('button', { class: 'primary', 'data-action': 'succeed', text: 'Succeed', onclick: () => act(id, 'succeed', payload.value) }),
          message,
          el('button', { class: 'danger', 'data-action': 'fail', text: 'Fail', onclick: () => act(id, 'fail', JSON.stringify({ ErrorType: 'ConsoleRejected', ErrorMessage: message.value })) }),
          el('button', { 'data-action': 'heartbeat', text: 'Heartbeat', onclick: () => act(id, 'heartbeat') })));
    }));
  }

  function eventDetail(event) {
    for (const [key, value] of Object.entries(event)) {
      if (!key.endsWith('Details') || !value || typeof value !== 'object') continue;
      const error = value.Error && value.Error.Payload;
      if (error) return `${error.ErrorType || 'error'}: ${error.ErrorMessage || ''}`;
      const result = value.Result && value.Result.Payload;
      if (result !== undefined && result !== null) return String(result);
      const input = value.Input && value.Input.Payload;
      if (input !== undefined && input !== null) return String(input);
    }
    return '';
  }

  function renderHistory(section, page, state, reload) {
    const events = page.Events || [];
    const rows = events.map((ev) => {
      const detail = eventDetail(ev);
      return el('tr', { 'data-event-type': ev.EventType },
        el('td', { class: 'num', text: ev.EventId }),
        el('td', { class: 'mono', text: fmtTime(ms(ev.EventTimestamp)) }),
        el('td', { text: ev.EventType }),
        el('td', { text: ev.Name || ev.Id || '' }),
        el('td', {}, detail ? el('code', { text: detail.length > 300 ? `${detail.slice(0, 300)}…` : detail }) : null));
    });
    replace(section, el('h3', { text: 'History' }),
      el('table', { id: 'history-table' },
        el('thead', {}, el('tr', {}, ['#', 'Time', 'Event', 'Operation', 'Detail'].map((h) => el('th', { text: h })))),
        el('tbody', {}, rows)),
      el('div', { class: 'pager' },
        el('button', { text: '← Earlier', disabled: !state.historyMarker, onclick: () => { state.historyMarker = state.historyMarkers.pop() || ''; reload(); } }),
        el('button', { text: 'Later →', disabled: !page.NextMarker, onclick: () => { state.historyMarkers.push(state.historyMarker); state.historyMarker = page.NextMarker; reload(); } })));
  }

  // ---- dead letters -------------------------------------------------------------------------

  async function deadLetters() {
    const mine = current();
    const list = el('div', { id: 'dead-letters' });
    const heading = el('h2', { text: 'Dead letters' });
    const sendBody = el('textarea', { id: 'send-body', 'aria-label': 'message body' });
    sendBody.value = '{"data_source": "test.csv", "processing_type": "standard"}';
    const sendResult = el('span', { id: 'send-result', class: 'muted' });
    const sendButton = el('button', { id: 'send-button', class: 'primary', text: 'Send', onclick: async () => {
      try {
        const out = await sqs('SendMessage', { QueueUrl: config.QueueUrl, MessageBody: sendBody.value });
        sendResult.textContent = `Sent message ${out.MessageId}`;
        sendResult.dataset.messageId = out.MessageId;
      } catch (err) { toast(err.message, true); }
    } });
    const redrive = async (body) => {
      try {
        const out = await consolePost('dead-letters/redrive', body);
        toast(`Moved ${out.Moved} message${out.Moved === 1 ? '' : 's'} to ${out.Queue}.`);
        signature = '';
        await load();
      } catch (err) { toast(err.message, true); }
    };
    replace(app, heading,
      el('section', { class: 'panel' }, el('div', { class: 'actions' },
        el('button', { id: 'redrive-all', text: 'Redrive all', onclick: () => redrive({}) }),
        el('span', { class: 'muted', text: `back to ${config.Queue}, visible at once` })), list),
      el('section', { class: 'panel' }, el('h3', { text: `Send a message to ${config.Queue}` }),
        sendBody, el('div', { class: 'actions' }, sendButton, sendResult)));
    let signature = '';
    const load = async () => {
      const page = await consoleGet('dead-letters', { MaxItems: 50 });
      if (mine !== current()) return;
      const sig = JSON.stringify(page);
      if (sig === signature) return;
      signature = sig;
      heading.textContent = `Dead letters (${page.Total} in ${page.Queue})`;
      const rows = (page.Messages || []).map((m) => el('tr', { 'data-message-id': m.MessageId },
        el('td', { class: 'mono', text: m.MessageId }),
        el('td', { class: 'mono', text: fmtTime(m.SentTimestamp) }),
        el('td', { class: 'error last-error', text: m.LastError || '–' }),
        el('td', {}, el('pre', { class: 'body', text: m.Body })),
        el('td', {}, el('button', { class: 'redrive-one', text: 'Redrive', onclick: () => redrive({ MessageId: m.MessageId }) }))));
      replace(list, el('table', {},
        el('thead', {}, el('tr', {}, ['Message', 'Sent', 'Last error', 'Body', ''].map((h) => el('th', { text: h })))),
        el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'The dead-letter queue is empty.' })))),
      page.Total > rows.length ? el('p', { class: 'muted', text: `Showing the first ${rows.length} of ${page.Total}.` }) : null);
    };
    await load();
    ready('dead-letters');
    every(3000, () => load().catch((err) => toast(err.message, true)));
  }

  // ---- table --------------------------------------------------------------------------------

  let keySchema = null;
  const scanStack = [];

  async function keyNames() {
    if (!keySchema) {
      const d = await ddb('DescribeTable', { TableName: config.Table });
      keySchema = (d.Table.KeySchema || []).map((k) => k.AttributeName);
    }
    return keySchema;
  }

  // An AttributeValue as plain text (S, N, BOOL, NULL, M, L, ...).
  function plain(value) {
    if (!value || typeof value !== 'object') return value;
    const [type, v] = Object.entries(value)[0] || [];
    switch (type) {
      case 'S': case 'N': case 'B': return v;
      case 'BOOL': return v;
      case 'NULL': return null;
      case 'M': return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
      case 'L': return v.map(plain);
      default: return v;
    }
  }

  async function table(params) {
    const mine = current();
    const keys = await keyNames();
    const start = params.get('start') || '';
    const page = await ddb('Scan', {
      TableName: config.Table, Limit: PAGE,
      ExclusiveStartKey: start ? JSON.parse(start) : undefined,
    });
    if (mine !== current()) return;
    const items = page.Items || [];
    const rows = items.map((it) => {
      const key = Object.fromEntries(keys.map((k) => [k, it[k]]));
      const rest = Object.fromEntries(Object.entries(it).filter(([k]) => !keys.includes(k)).map(([k, v]) => [k, plain(v)]));
      const summary = JSON.stringify(rest);
      return el('tr', {},
        el('td', {}, el('a', { href: `#/item/${encodeURIComponent(JSON.stringify(key))}`, class: 'mono', text: keys.map((k) => plain(it[k])).join(' / ') })),
        el('td', { class: 'mono', text: summary.length > 200 ? `${summary.slice(0, 200)}…` : summary }));
    });
    const go = (s) => { location.hash = `#/table${query({ start: s })}`; };
    replace(app, el('h2', { text: `Table ${config.Table}` }),
      el('table', { id: 'items' }, el('thead', {}, el('tr', {}, el('th', { text: keys.join(' / ') }), el('th', { text: 'Attributes' }))),
        el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: 2, class: 'muted', text: 'No items.' })))),
      el('div', { class: 'pager' },
        el('button', { text: '← Previous', disabled: !start, onclick: () => go(scanStack.pop() || '') }),
        el('button', { id: 'scan-next', text: 'Next →', disabled: !page.LastEvaluatedKey, onclick: () => { scanStack.push(start); go(JSON.stringify(page.LastEvaluatedKey)); } }),
        el('span', { class: 'muted', text: `${items.length} items on this page (Scan, ${PAGE} at a time)` })));
    ready('table');
  }

  async function item(keyText) {
    const mine = current();
    const key = JSON.parse(keyText);
    const out = await ddb('GetItem', { TableName: config.Table, Key: key, ConsistentRead: true });
    if (mine !== current()) return;
    if (!out.Item) {
      replace(app, el('h2', { text: 'Item' }), el('p', { class: 'muted', text: 'No such item.' }));
      ready('item');
      return;
    }
    const rows = Object.entries(out.Item).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => {
      const [type] = Object.keys(value);
      const v = plain(value);
      return el('tr', {}, el('td', { class: 'mono', text: name }), el('td', { text: type }),
        el('td', {}, typeof v === 'object' && v !== null ? pre(v) : el('span', { class: 'mono', text: String(v) })));
    });
    replace(app, el('h2', { text: `Item ${Object.values(key).map(plain).join(' / ')}` }),
      el('p', {}, el('a', { href: '#/table', text: '← back to the table' })),
      el('table', { id: 'item' }, el('thead', {}, el('tr', {}, ['Attribute', 'Type', 'Value'].map((h) => el('th', { text: h })))),
        el('tbody', {}, rows)),
      el('h3', { text: 'As DynamoDB JSON' }), pre(out.Item));
    ready('item');
  }

  // ---- start --------------------------------------------------------------------------------

  async function start() {
    try {
      config = await consoleGet('config');
    } catch (e) {
      replace(app, el('p', { class: 'error', text: `Cannot reach the stack: ${e.message}` }));
      app.dataset.state = 'error';
      return;
    }
    const scale = document.getElementById('time-scale');
    if (config.TimeScale !== 1) {
      scale.textContent = `time ×${config.TimeScale}`;
      scale.title = 'Durable waits, retry delays and timeouts run this many times faster (--time-scale)';
      scale.hidden = false;
    }
    window.addEventListener('hashchange', route);
    route();
  }

  start();
})();
