'use strict';
// The dashboard page: one EventSource on "events", a snapshot on connect,
// then changes and samples. Timelines are merged here by seq, so a change
// heard twice (from a listener and from a sample) is drawn once.
(() => {
  const LABEL = {
    closed: 'closed', open: 'open', half_open: 'half-open', held_open: 'held open',
    forced_open: 'forced open', disabled: 'disabled', metrics_only: 'metrics only',
    healthy: 'healthy', unhealthy: 'unhealthy', unknown: 'unknown',
  };
  const MAX_TRANSITIONS = 256;
  const view = { snap: null, lines: new Map(), serverAt: 0, localAt: 0, live: false };

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  const ms = (t) => Date.parse(t);
  const label = (s) => LABEL[s] || s;
  const pct = (x) => (Math.round(x * 1000) / 10) + '%';
  const count = (n, one, many) => n + ' ' + (n === 1 ? one : many || one + 's');

  function human(d) {
    if (!isFinite(d) || d < 0) d = 0;
    if (d < 1000) return Math.round(d) + ' ms';
    const s = d / 1000;
    if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + ' s';
    const m = Math.floor(s / 60), r = Math.round(s % 60);
    if (m < 60) return m + ' min' + (r ? ' ' + r + ' s' : '');
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }
  function clockText(t) {
    const d = new Date(t);
    return isNaN(d) ? '' : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }
  // now is the server's time, moved on by the time passed here while live.
  function now() {
    return view.serverAt + (view.live ? performance.now() - view.localAt : 0);
  }

  function merge(kind, name, t) {
    const id = kind + '/' + name;
    let line = view.lines.get(id);
    if (!line) view.lines.set(id, line = []);
    const i = line.findIndex((x) => x.seq >= t.seq);
    if (i >= 0 && line[i].seq === t.seq) {
      if (!line[i].reason && t.reason) line[i].reason = t.reason;
      return;
    }
    if (i < 0) line.push(t); else line.splice(i, 0, t);
    while (line.length > MAX_TRANSITIONS) line.shift();
  }
  function prune(at) {
    const cutoff = at - view.snap.history_seconds * 1000;
    for (const line of view.lines.values()) {
      while (line.length > 1 && ms(line[1].at) <= cutoff) line.shift();
    }
  }
  // absorb takes a snapshot (with timelines) or a sample (without: the
  // server sends what a sample changed as "change" events first).
  function absorb(s, replace) {
    if (replace) view.lines.clear();
    for (const b of s.breakers) for (const t of b.timeline || []) merge('breaker', b.snapshot.name, t);
    for (const h of s.health) for (const t of h.timeline || []) merge('health', h.snapshot.name, t);
    view.snap = s;
    view.serverAt = ms(s.time);
    view.localAt = performance.now();
    prune(view.serverAt);
  }

  // Time axis: ticks every step, labelled as time before now.
  function tickStep(hist) {
    for (const s of [5e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 1800e3, 3600e3, 7200e3]) {
      if (hist / s <= 6) return s;
    }
    return hist / 6;
  }
  function axis(hist) {
    const step = tickStep(hist);
    const a = el('div', { class: 'axis', 'aria-hidden': 'true' });
    const marks = [];
    for (let back = Math.floor(hist / step) * step; back > 0; back -= step) marks.push(back);
    if (marks[0] !== hist) marks.unshift(hist);
    for (const back of marks) {
      a.append(el('span', { style: 'left:' + pct(1 - back / hist), text: '−' + human(back) }));
    }
    a.append(el('span', { style: 'left:100%', text: 'now' }));
    return a;
  }

  function track(kind, name, line, at, hist) {
    const start = at - hist;
    const parts = [];
    const t = el('div', { class: 'track', 'data-kind': kind, 'data-name': name, role: 'img', style: '--tick:' + pct(tickStep(hist) / hist) });
    for (let i = 0; i < line.length; i++) {
      const from = Math.max(ms(line[i].at), start);
      const to = i + 1 < line.length ? Math.min(ms(line[i + 1].at), at) : at;
      if (to < start) continue;
      const left = (from - start) / hist, width = Math.max(0, (to - from) / hist);
      const what = label(line[i].state) + ' for ' + human(to - from) + ', from ' + clockText(from) +
        (line[i].reason ? ' (' + line[i].reason + ')' : '');
      parts.push(what);
      t.append(el('div', {
        class: 'seg', 'data-state': line[i].state, title: what,
        style: 'left:min(' + pct(left) + ', calc(100% - 6px));width:' + pct(width),
      }));
    }
    t.setAttribute('aria-label', name + ' over the last ' + human(hist) + ': ' + parts.join('; '));
    return t;
  }

  function breakerFacts(b, at) {
    const f = [label(b.state) + ' for ' + human(at - ms(b.since))];
    switch (b.state) {
      case 'closed': case 'metrics_only':
        f.push(b.window_calls ? 'failure rate ' + pct(b.failure_rate) + ' of ' + count(b.window_calls, 'call')
          : 'no calls in the window');
        if (b.slow_call_rate > 0) f.push('slow ' + pct(b.slow_call_rate));
        break;
      case 'open': f.push('probe in ' + human(b.until_half_open_seconds * 1000)); break;
      case 'held_open': f.push('release expected in ' + human(b.hold_remaining_seconds * 1000)); break;
      case 'half_open': f.push(count(b.probes_in_flight, 'probe') + ' in flight, ' + b.probe_successes + ' succeeded'); break;
    }
    if (b.reopens > 0) f.push(count(b.reopens, 're-opening'));
    f.push(b.successes + ' succeeded', b.failures + ' failed', b.rejected + ' rejected');
    return f.join(' · ');
  }
  function targetFacts(h, at) {
    const f = [];
    if (h.since) f.push(label(h.status) + ' for ' + human(at - ms(h.since)));
    f.push(count(h.probes, 'probe') + ', ' + h.failures + ' failed');
    if (h.critical) f.push('critical');
    if (h.last_error) f.push('last error: ' + h.last_error);
    return f.join(' · ');
  }

  function timelines(id, kind, items, stateOf, factsOf) {
    const sec = $(id);
    sec.hidden = items.length === 0;
    const rows = sec.querySelector('.rows');
    const at = now(), hist = view.snap.history_seconds * 1000;
    const kids = [];
    for (const it of items) {
      const s = it.snapshot, st = stateOf(s);
      kids.push(el('div', { class: 'who', ['data-' + kind]: s.name },
        el('div', { class: 'top' }, el('h3', { text: s.name }),
          el('span', { class: 'badge', 'data-state': st, 'data-name': s.name, text: label(st) })),
        el('p', { class: 'facts', text: factsOf(s, at) })));
      kids.push(track(kind, s.name, view.lines.get(kind + '/' + s.name) || [], at, hist));
    }
    if (items.length) kids.push(el('div'), axis(hist));
    rows.replaceChildren(...kids);
  }

  function bar(value, max, text) {
    const share = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
    return el('span', {},
      el('span', { class: 'bar', role: 'img', 'aria-label': pct(share) },
        el('span', { class: 'fill' + (share >= 0.8 ? ' high' : ''), style: 'width:' + pct(share) })),
      text);
  }
  function table(id, items, cols) {
    const sec = $(id);
    sec.hidden = items.length === 0;
    const head = el('tr', {}, ...cols.map(([h]) => el('th', { scope: 'col', text: h })));
    const body = items.map((it) => el('tr', {}, ...cols.map(([, f], i) => {
      const v = f(it);
      return el('td', { class: i ? 'num' : null }, typeof v === 'object' ? v : String(v));
    })));
    sec.querySelector('.table').replaceChildren(el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)));
  }

  function render() {
    const s = view.snap;
    if (!s) return;
    document.title = s.title;
    $('title').textContent = s.title;
    $('clock').textContent = 'server time ' + clockText(now()) + ' · sampled every ' + s.interval;
    timelines('breakers', 'breaker', s.breakers, (b) => b.state, breakerFacts);
    timelines('health', 'health', s.health, (h) => h.status, targetFacts);
    table('limiters', s.limiters, [['name', (l) => l.name], ['rate', (l) => l.rate],
      ['tokens', (l) => bar(l.tokens, l.burst, Math.max(0, l.tokens) + ' of ' + l.burst)],
      ['full in', (l) => human(l.full_in_seconds * 1000)], ['rejected', (l) => l.rejected]]);
    table('keyed', s.keyed, [['name', (k) => k.name], ['rate', (k) => k.rate + ', burst ' + k.burst],
      ['keys', (k) => bar(k.keys, k.max_keys, k.keys + ' of ' + k.max_keys)],
      ['limited', (k) => k.limited], ['refused', (k) => k.refused], ['evicted', (k) => k.evicted]]);
    table('bulkheads', s.bulkheads, [['name', (b) => b.name],
      ['in use', (b) => bar(b.in_flight, b.max_concurrent, b.in_flight + ' of ' + b.max_concurrent)],
      ['queued', (b) => b.queued + ' of ' + b.max_queue], ['waited', (b) => b.waited],
      ['rejected', (b) => b.rejected], ['timed out', (b) => b.timed_out]]);
    table('adaptive', s.adaptive, [['name', (a) => a.name],
      ['in use', (a) => bar(a.in_flight, a.limit, a.in_flight + ' of ' + a.limit)],
      ['limit range', (a) => a.min + ' to ' + a.max], ['latency target', (a) => a.latency_target],
      ['rejected', (a) => a.rejected], ['drops', (a) => a.drops]]);
    table('budgets', s.budgets, [['name', (b) => b.name],
      ['retries available', (b) => b.snapshot.available], ['retries', (b) => b.snapshot.retries],
      ['refused', (b) => b.snapshot.refusals], ['requests', (b) => b.snapshot.requests + ' in ' + b.snapshot.window]]);
    table('retries', s.retries, [['name', (r) => r.name], ['retries', (r) => r.retries], ['exhausted', (r) => r.exhausted]]);
    table('timeouts', s.timeouts, [['name', (t) => t.name], ['timeout', (t) => t.timeout + ' (' + t.mode + ')'],
      ['timed out', (t) => t.timeouts], ['abandoned', (t) => t.abandoned]]);
    table('throttles', s.throttles, [['name', (t) => t.name],
      ['refusing', (t) => bar(t.rejection_probability, 1, pct(t.rejection_probability))],
      ['requests', (t) => t.requests], ['accepted', (t) => t.accepts]]);
    const any = ['breakers', 'health', 'limiters', 'keyed', 'bulkheads', 'adaptive', 'budgets', 'retries',
      'timeouts', 'throttles'].some((k) => s[k].length > 0);
    $('empty').hidden = any;
    $('viewers').textContent = s.clients + ' live viewers · ' + s.dropped_clients + ' dropped for falling behind';
  }

  function conn(state, text) {
    $('conn').dataset.conn = state;
    $('conn').textContent = text;
  }

  const max = new URLSearchParams(location.search).get('max');
  const es = new EventSource('events' + (max ? '?max=' + encodeURIComponent(max) : ''));
  const on = (name, f) => es.addEventListener(name, (e) => { f(JSON.parse(e.data)); render(); });
  es.onopen = () => { view.live = true; conn('live', 'live'); };
  es.onerror = () => {
    view.live = false;
    if (es.readyState !== EventSource.CLOSED) conn('reconnecting', 'reconnecting…');
    else conn('ended', 'disconnected');
  };
  on('snapshot', (s) => absorb(s, true));
  on('sample', (s) => absorb(s, false));
  on('change', (c) => merge(c.kind, c.name, c.transition));
  on('end', () => { es.close(); view.live = false; conn('ended', 'stream ended (max lifetime); reload to resume'); });
  setInterval(() => { if (view.live) render(); }, 1000);
})();
