/**
 * The status page's script, served as /api/v1/health/ui/app.js (the CSP allows same-origin
 * scripts only: no inline code, no eval). Plain ES2017, written small by hand, no dependencies.
 *
 * It subscribes to the SSE feed (/api/v1/health/stream) with the page's short-lived ticket,
 * renders each snapshot with DOM methods (textContent only: nothing from the server is parsed as
 * HTML), draws the charts as SVG, and reconnects by itself with back-off, fetching a fresh ticket
 * first. Alert buttons POST to the alerts API with the token the page was opened with.
 */
export const APP_JS = String.raw`(function () {
  'use strict';

  var SVGNS = 'http://www.w3.org/2000/svg';
  var STATUS_WORD = { pass: 'Pass', warn: 'Warn', fail: 'Fail', healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy', unknown: 'Unknown', ungraded: 'Not graded', missing: 'Missing' };
  var STATUS_ICON = { pass: '\u2714', healthy: '\u2714', warn: '\u26A0\uFE0E', degraded: '\u26A0\uFE0E', fail: '\u2716', unhealthy: '\u2716', unknown: '?', ungraded: '\u2013', missing: '?' };
  var SEVERITY_ICON = { critical: '\u2716', warning: '\u26A0\uFE0E', info: 'i' };
  var GROUPS = ['streaming', 'cache', 'system', 'dependencies'];
  var GROUP_LABEL = { streaming: 'Streaming KPIs', cache: 'Cache KPIs', system: 'System KPIs', dependencies: 'Dependencies' };

  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute('content') || '' : '';
  }

  var base = meta('chatpulse-base');
  var ticket = meta('chatpulse-ticket');
  // The token the page was opened with (?token=), for the alerts API and fresh stream tickets.
  // Kept in memory only; with a proxy that adds Authorization there is none and none is needed.
  var token = new URLSearchParams(window.location.search).get('token');
  var last = null;
  var rendered = {};
  var es = null;
  var attempt = 0;
  var retryTimer = null;
  var lastStatus = null;
  // The alert whose button was pressed: focus follows it when its row moves.
  var focusWant = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) continue;
        if (k === 'text') e.textContent = String(attrs[k]);
        else if (k === 'className') e.className = attrs[k];
        else e.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
      }
    }
    append(e, children);
    return e;
  }

  function svg(tag, attrs, children) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = String(attrs[k]);
      else e.setAttribute(k, String(attrs[k]));
    }
    append(e, children);
    return e;
  }

  function append(e, children) {
    if (children === undefined || children === null) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // A table and its scrolling region are shown together (the region is focusable when shown).
  function showTable(table, visible) {
    table.hidden = !visible;
    if (table.parentNode && table.parentNode.classList.contains('scroll')) table.parentNode.hidden = !visible;
  }

  function badge(status, word, extraClass) {
    return el('span', { className: 'badge' + (extraClass ? ' ' + extraClass : ''), 'data-status': status }, [
      el('span', { className: 'icon', 'aria-hidden': 'true', text: STATUS_ICON[status] || SEVERITY_ICON[status] || '\u2022' }),
      ' ',
      el('span', { className: 'word', text: word || STATUS_WORD[status] || status })
    ]);
  }

  function fmtMs(v) {
    if (v === null || v === undefined) return '\u2013';
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 1 : 2) + ' s';
    return (v >= 100 ? Math.round(v) : Math.round(v * 10) / 10) + ' ms';
  }

  function fmtRate(v) { return (Math.round(v * 100) / 100).toString(); }

  function fmtTime(iso) {
    if (!iso) return '\u2013';
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  }

  function fmtSpan(ms) {
    return ms >= 120000 ? Math.round(ms / 60000) + ' min' : Math.round(ms / 1000) + ' s';
  }

  function fmtUptime(s) {
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return d > 0 ? d + 'd ' + h + 'h ' + m + 'm' : h > 0 ? h + 'h ' + m + 'm' : m + 'm ' + (s % 60) + 's';
  }

  function timeEl(iso) {
    return el('time', { datetime: iso, text: fmtTime(iso) });
  }

  // Re-renders a section only when its data changed, so focus and scroll stay put.
  function changed(key, value) {
    var s = JSON.stringify(value);
    if (rendered[key] === s) return false;
    rendered[key] = s;
    return true;
  }

  // ---- connection ---------------------------------------------------------------------------

  function setConn(state, text) {
    var c = $('conn');
    c.setAttribute('data-state', state);
    $('conn-text').textContent = text;
  }

  function authHeaders(json) {
    var h = {};
    if (token) h.Authorization = 'Bearer ' + token;
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }

  function connect() {
    var url = base + '/api/v1/health/stream' + (ticket ? '?ticket=' + encodeURIComponent(ticket) : '');
    ticket = '';
    es = new EventSource(url);
    es.addEventListener('snapshot', function (ev) {
      attempt = 0;
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      setConn('live', data.shuttingDown ? 'Live \u2013 service shutting down' : 'Live');
      render(data);
    });
    es.onerror = function () {
      // Take over from the browser's own retry: a reconnect needs a fresh ticket.
      if (es) es.close();
      es = null;
      scheduleReconnect();
    };
  }

  function scheduleReconnect(stateText) {
    if (retryTimer) return;
    var delay = Math.min(15000, 1000 * Math.pow(2, attempt));
    attempt++;
    setConn('reconnecting', stateText || ('Disconnected \u2013 reconnecting in ' + Math.round(delay / 1000) + ' s'));
    retryTimer = setTimeout(function () {
      retryTimer = null;
      reconnect();
    }, delay);
  }

  function reconnect() {
    setConn('reconnecting', 'Reconnecting\u2026');
    fetch(base + '/api/v1/health/stream/ticket', { method: 'POST', headers: authHeaders(false), cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          scheduleReconnect('Not authorized \u2013 open this page with ?token=\u2026');
          setConn('unauthorized', 'Not authorized \u2013 open this page with ?token=\u2026');
          return null;
        }
        if (!r.ok) { scheduleReconnect(); return null; }
        return r.json();
      })
      .then(function (j) {
        if (!j) return;
        ticket = j.ticket || '';
        connect();
      })
      .catch(function () { scheduleReconnect(); });
  }

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    if (resizeTimer) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { resizeTimer = null; if (last) renderCharts(last); }, 150);
  });

  window.addEventListener('online', function () {
    if (es === null && retryTimer) { clearTimeout(retryTimer); retryTimer = null; reconnect(); }
  });

  // ---- rendering ----------------------------------------------------------------------------

  function render(s) {
    last = s;
    renderOverall(s);
    renderInstances(s.instances, s.streams.windowSeconds);
    renderAlerts(s.alerts);
    renderChecks(s.checks);
    renderCharts(s);
    renderCaches(s.caches);
    renderEvents(s.events);
    $('updated').textContent = 'updated ' + fmtTime(s.timestamp) + ', evaluated ' + fmtTime(s.evaluatedAt);
  }

  function renderOverall(s) {
    var o = $('overall');
    if (s.status !== lastStatus) {
      lastStatus = s.status;
      o.setAttribute('data-status', s.status);
      o.querySelector('.icon').textContent = STATUS_ICON[s.status];
      o.querySelector('.word').textContent = STATUS_WORD[s.status] + (s.shuttingDown ? ' (shutting down)' : '');
      document.title = STATUS_WORD[s.status] + ' \u00b7 ' + s.service + ' status';
    }
    $('fact-active').textContent = String(s.streams.active);
    $('fact-rate').textContent = fmtRate(s.streams.perSecond);
    $('fact-alerts').textContent = s.alerts.available ? String(s.alerts.active.length) : '\u2013';
    $('fact-uptime').textContent = fmtUptime(s.uptimeSeconds);
    if (changed('issues', s.issues)) {
      var ul = $('issues');
      clear(ul);
      s.issues.forEach(function (i) { ul.appendChild(el('li', { text: i })); });
      $('issues-box').hidden = s.issues.length === 0;
    }
  }

  function checkStatus(c) { return c.graded ? c.status : 'ungraded'; }

  function renderChecks(checks) {
    if (!changed('checks', checks)) return;
    var table = $('checks');
    Array.prototype.slice.call(table.tBodies).forEach(function (b) { table.removeChild(b); });
    GROUPS.forEach(function (g) {
      var rows = checks.filter(function (c) { return c.group === g || (g === 'dependencies' && c.kind === 'dependency'); });
      if (rows.length === 0) return;
      var tb = el('tbody', { 'data-group': g });
      tb.appendChild(el('tr', null, el('th', { scope: 'rowgroup', colspan: '4', text: GROUP_LABEL[g] })));
      rows.forEach(function (c) {
        var st = checkStatus(c);
        var label = c.label + (c.kind === 'dependency' ? (c.required ? ' (required)' : ' (optional)') : '');
        var msg = c.message && c.message.indexOf(c.label) === 0 ? c.message.slice(c.label.length).trim() : c.message;
        var note = msg && (c.status !== 'pass' || !c.graded) ? el('span', { className: 'note', text: msg }) : null;
        tb.appendChild(el('tr', { 'data-check': c.name, 'data-status-value': st }, [
          el('th', { scope: 'row' }, [label, note]),
          el('td', null, badge(c.graded ? c.status : 'ungraded', c.graded ? STATUS_WORD[c.status] : 'Not graded')),
          el('td', null, [c.value === null ? '\u2013' : c.value, c.threshold === null ? null : el('span', { className: 'note thr-inline', text: 'threshold ' + c.threshold })]),
          el('td', { className: 'thr', text: c.threshold === null ? '\u2013' : c.threshold })
        ]));
      });
      table.appendChild(tb);
    });
  }

  // ---- instances (fleet mode) ---------------------------------------------------------------

  function fmtPct(v) {
    if (v === null || v === undefined) return '\u2013';
    return (Math.round(v * 10000) / 100) + '%';
  }

  function renderInstances(list, windowSeconds) {
    if (!changed('instances', list)) return;
    var card = $('instances-card');
    // In-process there is one instance: the section stays hidden.
    card.hidden = !list;
    if (!list) return;
    var counts = {};
    list.forEach(function (i) { counts[i.status] = (counts[i.status] || 0) + 1; });
    var summary = ['unhealthy', 'missing', 'degraded', 'healthy'].filter(function (k) { return counts[k]; })
      .map(function (k) { return counts[k] + ' ' + STATUS_WORD[k].toLowerCase(); }).join(', ');
    $('instances-hint').textContent = list.length + (list.length === 1 ? ' instance' : ' instances') + (summary ? ' (' + summary + ')' : '') +
      ', each graded on its own over the ' + windowSeconds + ' s window with the same thresholds, worst first.';
    var tb = $('instances').tBodies[0];
    clear(tb);
    list.forEach(function (i) {
      var note = i.status === 'missing' ? 'reported within the window, nothing now' : i.issues.length ? i.issues.join('; ') : null;
      tb.appendChild(el('tr', { 'data-instance': i.id, 'data-status-value': i.status }, [
        el('th', { scope: 'row' }, [i.id, note ? el('span', { className: 'note', text: note }) : null]),
        el('td', null, badge(i.status)),
        el('td', { className: 'num', text: fmtMs(i.firstTokenP95Ms) }),
        el('td', { className: 'num', text: String(i.streams) }),
        el('td', { className: 'num', text: fmtPct(i.errorRate) })
      ]));
    });
  }

  // ---- alerts -------------------------------------------------------------------------------

  function alertRow(a, kind) {
    // Severity (word + icon), title and rule in one cell: three columns fit a phone.
    var sev = badge(a.severity, a.severity.charAt(0).toUpperCase() + a.severity.slice(1), 'sev');
    var title = el('th', { scope: 'row' }, [sev, el('span', { className: 'title', text: a.title }), el('span', { className: 'note id', text: a.category + ' \u00b7 ' + a.ruleId })]);
    var cells = [title];
    if (kind === 'firing') cells.push(el('td', null, timeEl(a.firedAt)));
    else if (kind === 'acknowledged') cells.push(el('td', null, [a.acknowledgedAt ? timeEl(a.acknowledgedAt) : 'yes', a.acknowledgedBy ? el('span', { className: 'note', text: 'by ' + a.acknowledgedBy }) : null]));
    else cells.push(el('td', null, [timeEl(a.resolvedAt), el('span', { className: 'note', text: a.resolution === 'auto' ? 'automatically (condition cleared)' : a.resolvedBy ? 'by ' + a.resolvedBy : a.resolution || '' })]));
    if (kind !== 'resolved') {
      var actions = el('div', { className: 'actions' });
      if (kind === 'firing') actions.appendChild(actionButton(a, 'acknowledge', 'Acknowledge'));
      actions.appendChild(actionButton(a, 'resolve', 'Resolve'));
      cells.push(el('td', null, actions));
    }
    return el('tr', { 'data-alert-id': a.id, 'data-alert-status': a.status }, cells);
  }

  function actionButton(a, action, word) {
    var b = el('button', { type: 'button', 'data-action': action, 'data-alert-id': a.id, 'aria-label': word + ' alert: ' + a.title, text: word });
    b.addEventListener('click', function () { act(a, action, b); });
    return b;
  }

  function fillAlertTable(id, emptyId, list, kind) {
    var table = $(id);
    var tb = table.tBodies[0];
    clear(tb);
    list.forEach(function (a) { tb.appendChild(alertRow(a, kind)); });
    showTable(table, list.length > 0);
    $(emptyId).hidden = list.length > 0;
  }

  function renderAlerts(alerts) {
    if (!changed('alerts', alerts)) return;
    $('alerts-off').hidden = alerts.available;
    // Keep keyboard focus on the same alert when its row moves between tables.
    var f = document.activeElement;
    var onAlert = f && f.getAttribute && f.getAttribute('data-alert-id');
    var lost = !f || f === document.body;
    var focusId = onAlert ? f.getAttribute('data-alert-id') : lost && focusWant ? focusWant.id : null;
    var focusAction = onAlert ? f.getAttribute('data-action') : lost && focusWant ? focusWant.action : null;
    fillAlertTable('alerts-firing', 'firing-empty', alerts.active.filter(function (a) { return a.status === 'firing'; }), 'firing');
    fillAlertTable('alerts-acknowledged', 'acked-empty', alerts.active.filter(function (a) { return a.status === 'acknowledged'; }), 'acknowledged');
    fillAlertTable('alerts-resolved', 'resolved-empty', alerts.resolved, 'resolved');
    if (focusId) {
      restoreFocus(focusId, focusAction);
      focusWant = null;
    }
  }

  function restoreFocus(id, action) {
    var sel = 'button[data-alert-id="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]';
    var same = document.querySelector(sel + '[data-action="' + action + '"]:not([disabled])');
    var other = same || document.querySelector(sel + ':not([disabled])');
    if (other) other.focus();
    else $('alerts-h').focus();
  }

  function say(text, kind) {
    var m = $('alert-msg');
    m.setAttribute('data-kind', kind || 'info');
    m.textContent = text;
  }

  function act(a, action, button) {
    focusWant = { id: a.id, action: action };
    button.disabled = true;
    say((action === 'acknowledge' ? 'Acknowledging' : 'Resolving') + ' \u201c' + a.title + '\u201d\u2026');
    fetch(base + '/api/v1/health/alerts', {
      method: 'POST',
      headers: authHeaders(true),
      cache: 'no-store',
      credentials: 'same-origin',
      body: JSON.stringify({ action: action, ids: [a.id], by: 'status page', note: null })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status === 200) {
        say((action === 'acknowledge' ? 'Acknowledged' : 'Resolved') + ': \u201c' + a.title + '\u201d.');
        applyTransition(res.body.alerts || []);
      } else {
        button.disabled = false;
        var why = res.status === 401 ? 'not authorized (open this page with ?token=\u2026)' : (res.body && res.body.error) || ('HTTP ' + res.status);
        say('Could not ' + action + ' \u201c' + a.title + '\u201d: ' + why, 'error');
      }
    }).catch(function (e) {
      button.disabled = false;
      say('Could not ' + action + ' \u201c' + a.title + '\u201d: ' + (e && e.message ? e.message : 'network error'), 'error');
    });
  }

  // Shows the API's answer at once; the stream's next snapshot confirms it.
  function applyTransition(updated) {
    if (!last || !last.alerts) return;
    var byId = {};
    updated.forEach(function (u) { byId[u.id] = u; });
    var alerts = last.alerts;
    var active = [];
    var resolved = alerts.resolved.slice();
    alerts.active.forEach(function (a) {
      var u = byId[a.id];
      if (!u) return active.push(a);
      var v = { id: a.id, severity: a.severity, category: a.category, title: a.title, status: u.status, ruleId: a.ruleId, firedAt: a.firedAt,
        acknowledgedAt: u.acknowledgedAt || null, acknowledgedBy: u.acknowledgedBy || null, resolvedAt: u.resolvedAt || null, resolvedBy: u.resolvedBy || null, resolution: u.resolution || null, note: u.note || null };
      if (u.status === 'resolved') resolved.unshift(v);
      else active.push(v);
    });
    last = Object.assign({}, last, { alerts: { available: alerts.available, active: active, resolved: resolved.slice(0, 10) } });
    renderAlerts(last.alerts);
    $('fact-alerts').textContent = String(active.length);
  }

  // ---- charts -------------------------------------------------------------------------------

  var H = 150, PAD_L = 52, PAD_R = 8, PAD_T = 8, PAD_B = 20;

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var n = v / p;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
  }

  function pathFor(points, pick, x, y) {
    var d = '';
    var pen = false;
    points.forEach(function (p) {
      var v = pick(p);
      if (v === null || v === undefined) { pen = false; return; }
      d += (pen ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(v).toFixed(1);
      pen = true;
    });
    return d;
  }

  function drawChart(id, points, series, opts) {
    var fig = $(id);
    var plot = fig.querySelector('.plot');
    // Drawn at the plot's own pixel width: text and strokes are never stretched.
    var W = Math.max(200, Math.round(plot.clientWidth || 600));
    var span = opts.spanMs;
    var now = points.length ? points[points.length - 1].t : Date.now();
    var t0 = now - span;
    var max = 0;
    points.forEach(function (p) { series.forEach(function (s) { var v = s.pick(p); if (v !== null && v > max) max = v; }); });
    var yMax = niceMax(max * 1.1);
    if (opts.warn && opts.warn <= yMax * 1.5 && opts.warn > yMax) yMax = niceMax(opts.warn * 1.1);
    var x = function (t) { return PAD_L + ((t - t0) / span) * (W - PAD_L - PAD_R); };
    var y = function (v) { return PAD_T + (1 - v / yMax) * (H - PAD_T - PAD_B); };
    var children = [];
    [0, 0.5, 1].forEach(function (f) {
      var v = yMax * f;
      children.push(svg('line', { 'class': 'grid', x1: PAD_L, x2: W - PAD_R, y1: y(v), y2: y(v) }));
      children.push(svg('text', { 'class': 'axis', x: PAD_L - 6, y: y(v) + 4, 'text-anchor': 'end', text: opts.fmt(v) }));
    });
    children.push(svg('text', { 'class': 'axis', x: PAD_L, y: H - 4, text: '\u2212' + fmtSpan(span) }));
    children.push(svg('text', { 'class': 'axis', x: W - PAD_R, y: H - 4, 'text-anchor': 'end', text: 'now' }));
    if (opts.warn && opts.warn <= yMax) children.push(svg('line', { 'class': 's-warn', x1: PAD_L, x2: W - PAD_R, y1: y(opts.warn), y2: y(opts.warn) }));
    series.forEach(function (s) {
      var d = pathFor(points, s.pick, x, y);
      if (d) children.push(svg('path', { 'class': s.cls, d: d }));
    });
    var label = opts.label;
    var g = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-label': label }, children);
    clear(plot);
    plot.appendChild(g);
    fig.querySelector('.now').textContent = opts.summary;
  }

  function renderCharts(s) {
    var pts = s.history.points;
    var spanMs = s.history.capacity * s.history.intervalMs;
    var spanText = fmtSpan(spanMs);
    $('latency-hint').textContent = 'p50, p95 and p99 over the ' + s.streams.windowSeconds + ' s sliding window, at each evaluation, for the last ' + spanText + '.';
    [['firstToken', 'Time to first token'], ['firstAudio', 'Time to first audio'], ['complete', 'Complete response']].forEach(function (k) {
      var key = k[0];
      var cur = s.latency[key];
      var lim = s.limits[key];
      var summary = cur.count > 0
        ? 'Now: p50 ' + fmtMs(cur.p50) + ', p95 ' + fmtMs(cur.p95) + ', p99 ' + fmtMs(cur.p99) + ' (' + cur.count + ' samples); warn above ' + fmtMs(lim.warn) + '.'
        : 'No samples in the window; warn above ' + fmtMs(lim.warn) + '.';
      drawChart('chart-' + key, pts, [
        { cls: 's-p50', pick: function (p) { return p[key][0]; } },
        { cls: 's-p95', pick: function (p) { return p[key][1]; } },
        { cls: 's-p99', pick: function (p) { return p[key][2]; } }
      ], { spanMs: spanMs, warn: lim.warn, fmt: fmtMs, summary: summary, label: k[1] + ' over the last ' + spanText + '. ' + summary });
    });
    var rateSummary = 'Now: ' + fmtRate(s.streams.perSecond) + ' streams/s over the window (' + s.streams.completed + ' completed, ' + s.streams.failed + ' failed, ' + s.streams.aborted + ' aborted); ' + s.streams.active + ' active.';
    drawChart('chart-streamRate', pts, [{ cls: 's-rate', pick: function (p) { return p.streamRate; } }],
      { spanMs: spanMs, warn: null, fmt: fmtRate, summary: rateSummary, label: 'Stream rate over the last ' + spanText + '. ' + rateSummary });
  }

  // ---- caches and events --------------------------------------------------------------------

  function renderCaches(caches) {
    if (!changed('caches', caches)) return;
    var table = $('caches');
    var tb = table.tBodies[0];
    clear(tb);
    caches.forEach(function (c) {
      var pct = c.hitRate === null ? '\u2013' : (Math.round(c.hitRate * 1000) / 10) + '%';
      tb.appendChild(el('tr', { 'data-cache': c.name }, [
        el('th', { scope: 'row', text: c.name }),
        el('td', null, [c.hitRate === null ? null : el('meter', { min: '0', max: '1', value: String(c.hitRate), 'aria-hidden': 'true' }), ' ', pct]),
        el('td', { text: c.hits }),
        el('td', { text: c.misses })
      ]));
    });
    showTable(table, caches.length > 0);
    $('caches-empty').hidden = caches.length > 0;
  }

  var EVENT_WORD = { start: 'started', first_token: 'first token', first_audio: 'first audio', end: 'ended' };

  function renderEvents(events) {
    if (!changed('events', events)) return;
    var table = $('events');
    var tb = table.tBodies[0];
    clear(tb);
    events.forEach(function (e) {
      tb.appendChild(el('tr', null, [
        el('td', null, timeEl(e.time)),
        el('td', { text: e.route }),
        el('td', { text: EVENT_WORD[e.event] || e.event }),
        el('td', null, e.outcome ? el('span', { className: 'badge', 'data-status': e.outcome, text: e.outcome }) : '\u2013'),
        el('td', { text: e.seconds === undefined ? '\u2013' : fmtMs(e.seconds * 1000) })
      ]));
    });
    showTable(table, events.length > 0);
    $('events-empty').hidden = events.length > 0;
  }

  function start() {
    ['alerts-firing', 'alerts-acknowledged', 'alerts-resolved', 'caches', 'events'].forEach(function (id) { showTable($(id), false); });
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
