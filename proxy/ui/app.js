// cordon operator page. Reads /status and site.json, draws the page with DOM
// calls only: every string that comes from a camera, a recorder or the
// network is set as text (textContent), never parsed as HTML.
'use strict';

const POLL_MS = 5000;
const SNAPSHOT_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';

let site = null;          // last site.json
let zone = { name: 'UTC', offset_seconds: 0, abbreviation: 'UTC' };
let zoneFormat = null;    // Intl formatter for the site's zone, when the name is an IANA one
const cards = new Map();  // camera name → card record
// Only cards on screen fetch snapshots: a site with forty cameras asks the
// daemon for the few a screen shows.
const watcher = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
  for (const e of entries) {
    const c = cards.get(e.target.dataset.camera);
    if (!c) continue;
    const was = c.visible;
    c.visible = e.isIntersecting;
    if (c.visible && !was) refreshSnapshot(c);
  }
}) : null;

// ---- small DOM helpers ------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function setText(node, text) {
  const t = text === null || text === undefined || text === '' ? '—' : String(text);
  if (node.textContent !== t) node.textContent = t;
}

// ---- formatting -------------------------------------------------------------

function pad(n) { return String(n).padStart(2, '0'); }

function offsetText(seconds) {
  const s = seconds < 0 ? '-' : '+';
  const a = Math.abs(seconds);
  return s + pad(Math.floor(a / 3600)) + ':' + pad(Math.floor((a % 3600) / 60));
}

function setZone(tz) {
  zone = tz;
  zoneFormat = null;
  try {
    zoneFormat = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz.name, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset',
    });
  } catch (e) {
    zoneFormat = null; // not an IANA name: use the server's current offset
  }
}

// ISO 8601 in the site's time zone, e.g. 2026-12-01T22:57:48+01:00.
function isoLocal(value) {
  if (!value) return null;
  const d = new Date(value);
  if (isNaN(d.getTime())) return String(value);
  if (zoneFormat) {
    const p = {};
    for (const part of zoneFormat.formatToParts(d)) p[part.type] = part.value;
    let off = (p.timeZoneName || 'GMT').replace('GMT', '');
    if (off === '') off = '+00:00';
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${off}`;
  }
  const l = new Date(d.getTime() + zone.offset_seconds * 1000);
  return l.toISOString().slice(0, 19) + offsetText(zone.offset_seconds);
}

function bytes(n) {
  if (typeof n !== 'number') return null;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

function num(n, digits) {
  return typeof n === 'number' ? n.toFixed(digits) : null;
}

function duration(seconds) {
  if (typeof seconds !== 'number') return null;
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60), s = Math.floor(seconds % 60);
  return (d ? d + ' d ' : '') + (d || h ? h + ' h ' : '') + (d || h || m ? m + ' min ' : '') + s + ' s';
}

function isIsoDate(v) {
  return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v);
}

// Any other field /status carries (the daemon grows new ones): shown as text.
function anyValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (isIsoDate(v)) return isoLocal(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function label(key) {
  const s = key.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- facts lists --------------------------------------------------------------

// Keeps one <dt>/<dd> pair per key in DL; returns the <dd>.
function fact(dl, key, title) {
  let dd = dl.querySelector(`dd[data-key="${key}"]`);
  if (!dd) {
    dl.append(el('dt', { 'data-key': key }, title), dd = el('dd', { 'data-key': key }));
  }
  return dd;
}

function fillExtras(dl, obj, known) {
  for (const [k, v] of Object.entries(obj)) {
    if (known.has(k) || !/^[a-z0-9_]+$/.test(k)) continue;
    setText(fact(dl, k, label(k)), anyValue(v));
  }
}

// ---- firewall -------------------------------------------------------------------

const FIREWALL_KNOWN = new Set(['mode', 'applied', 'attempts']);
const FIREWALL_BAD = new Set(['degraded', 'interface_missing']);

function drawFirewall(fw) {
  const dl = document.getElementById('firewall');
  setText(fact(dl, 'mode', 'Mode'), fw.mode);
  const applied = fact(dl, 'applied', 'Table inet cordon');
  setText(applied, fw.applied ? 'applied' : 'NOT applied');
  applied.className = fw.applied ? 'good' : 'bad';
  fillExtras(dl, fw, FIREWALL_KNOWN);
  for (const k of FIREWALL_BAD) {
    const dd = dl.querySelector(`dd[data-key="${k}"]`);
    if (dd) dd.className = fw[k] ? 'bad' : 'good';
  }
  const attempts = Array.isArray(fw.attempts) ? fw.attempts : [];
  setText(fact(dl, 'attempts', 'Blocked destinations (all cameras)'), attempts.length);
}

// ---- blocked attempts ----------------------------------------------------------

// One row per distinct attempt, cameras in /status order, unknown sources last.
function drawAttempts(attempts, cameras) {
  const order = new Map(cameras.map((c, i) => [c.name, i]));
  const rank = (a) => (a.camera && order.has(a.camera) ? order.get(a.camera) : cameras.length);
  const sorted = attempts.slice().sort((a, b) => rank(a) - rank(b) || (b.count || 0) - (a.count || 0));
  const rows = sorted.map((a) =>
    el('tr', { 'data-camera': a.camera || '' },
      el('th', { scope: 'row' }, a.camera || '(no camera: spoofed or unknown source)'),
      el('td', {}, a.protocol || '—'), el('td', { class: 'addr' }, a.destination || '—'),
      el('td', { class: 'n' }, a.port ? String(a.port) : '—'), el('td', { class: 'name' }, a.dns_name || '—'),
      el('td', { class: 'n' }, String(a.count ?? '—')),
      el('td', { class: 'date' }, el('time', { datetime: a.first_seen }, isoLocal(a.first_seen) || '—')),
      el('td', { class: 'date' }, el('time', { datetime: a.last_seen }, isoLocal(a.last_seen) || '—'))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '8', class: 'none' }, 'no camera has tried anything yet')));
  document.querySelector('#attempts tbody').replaceChildren(...rows);
}

// ---- plots ----------------------------------------------------------------------

const PLOT_W = 240, PLOT_H = 48;

function plot(title, unit) {
  const s = svg('svg', { viewBox: `0 0 ${PLOT_W} ${PLOT_H}`, preserveAspectRatio: 'none', role: 'img',
                         class: 'plot', focusable: 'false' });
  const t = svg('title', {});
  s.append(t);
  const cap = el('figcaption', {});
  const from = el('span', {});
  const axis = el('div', { class: 'xaxis', 'aria-hidden': 'true' }, from, el('span', {}, 'now'));
  return { figure: el('figure', { class: 'plotbox' }, cap, s, axis), svg: s, title: t, caption: cap, from,
           name: title, unit };
}

function minutes(seconds) {
  return seconds >= 120 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`;
}

// The x axis spans the history there is (at least five minutes, at most the
// window), so that a young daemon's plot is not a sliver at the right edge.
function drawPlot(p, samples, key, windowSeconds, bars, digits) {
  const values = samples.map((s) => s[key]);
  const max = Math.max(0, ...values);
  const now = values.length ? values[values.length - 1] : null;
  const top = max > 0 ? max * 1.25 : 1;
  const interval = site ? site.interval_seconds : 10;
  const oldest = samples.length ? samples[0].age_seconds + interval : 0;
  const span = Math.min(windowSeconds, Math.max(300, oldest));
  const x = (age) => PLOT_W * (1 - Math.min(age, span) / span);
  const y = (v) => PLOT_H - 1 - (PLOT_H - 2) * (v / top);
  const unit = p.unit ? ' ' + p.unit : '';
  const text = `${p.name}: ` + (values.length
    ? `now ${now.toFixed(digits)}${unit}, highest ${max.toFixed(digits)}${unit}` : 'no samples yet');
  setText(p.caption, text);
  setText(p.title, `${text} (last ${minutes(span)})`);
  setText(p.from, `−${minutes(span)}`);
  while (p.svg.lastChild !== p.title) p.svg.lastChild.remove();
  p.svg.append(svg('line', { x1: 0, y1: PLOT_H - 0.5, x2: PLOT_W, y2: PLOT_H - 0.5, class: 'axis' }));
  if (!samples.length) return;
  if (bars) {
    const w = Math.max(1, PLOT_W * interval / span - 0.5);
    for (const s of samples) {
      if (!s[key]) continue;
      const h = PLOT_H - 1 - y(s[key]);
      p.svg.append(svg('rect', { x: (x(s.age_seconds) - w).toFixed(1), y: y(s[key]).toFixed(1),
                                 width: w.toFixed(1), height: Math.max(1, h).toFixed(1), class: 'bar' }));
    }
  } else {
    const pts = samples.map((s) => `${x(s.age_seconds).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ');
    p.svg.append(svg('polyline', { points: pts, class: 'line' }));
  }
}

// ---- camera cards -----------------------------------------------------------------

const CAMERA_KNOWN = new Set(['name', 'state', 'since', 'input_codec', 'input_width', 'input_height',
  'output_width', 'output_height', 'output_framerate', 'reconnects', 'frames_in', 'frames_out',
  'frames_dropped', 'frames_rate_dropped', 'bytes_out', 'output_kbps', 'last_frame_age_ms', 'encoders', 'media',
  'blocked_packets', 'last_error']);

function cardFor(name) {
  let c = cards.get(name);
  if (c) return c;
  const id = 'camera-' + name.replace(/[^A-Za-z0-9_-]/g, '_');
  const state = el('span', { class: 'state' });
  const since = el('p', { class: 'since' });
  const img = el('img', { alt: `Snapshot of camera ${name}`, class: 'thumb', 'data-loaded': 'no' });
  const shot = el('figcaption', {}, 'no snapshot yet');
  const facts = el('dl', { class: 'facts' });
  const plots = { fps: plot('Camera frame rate', 'fps'),
                  kbps: plot('Output bitrate', 'kbit/s'),
                  blocked: plot('Blocked attempts per 10 s', '') };
  const article = el('article', { class: 'camera', id, 'data-camera': name, 'aria-labelledby': id + '-h' },
    el('header', {}, el('h3', { id: id + '-h' }, name), state),
    since,
    el('div', { class: 'body' }, el('figure', { class: 'shot' }, img, shot), facts),
    el('div', { class: 'plots' }, plots.fps.figure, plots.kbps.figure, plots.blocked.figure));
  c = { name, article, state, since, img, shot, facts, plots, live: false, visible: !watcher };
  cards.set(name, c);
  if (watcher) watcher.observe(article);
  return c;
}

function drawCamera(c, cam, fps, attempts) {
  c.article.dataset.state = cam.state || 'unknown';
  setText(c.state, cam.state);
  c.state.className = 'state state-' + (cam.state || 'unknown');
  c.live = cam.state === 'live';
  const f = c.facts;
  setText(c.since, cam.since ? `${cam.state} since ${isoLocal(cam.since)}` : cam.state);
  setText(fact(f, 'input', 'Input'), cam.input_codec
    ? `${cam.input_codec.toUpperCase()} ${cam.input_width}×${cam.input_height}` : null);
  setText(fact(f, 'output', 'Output'), `H.264 ${cam.output_width}×${cam.output_height}, ${cam.output_framerate} fps`);
  setText(fact(f, 'fps', 'Frame rate'), fps === null ? null : fps.toFixed(1) + ' fps');
  // The last 10 s sample, as the plot; /status's own figure until there is one.
  const hist = site && site.history ? site.history[cam.name] || [] : [];
  const kbps = hist.length ? hist[hist.length - 1].kbps : cam.output_kbps;
  setText(fact(f, 'kbps', 'Bitrate out'), typeof kbps === 'number' ? num(kbps, 0) + ' kbit/s' : null);
  setText(fact(f, 'reconnects', 'Reconnects'), cam.reconnects);
  const forRate = cam.frames_rate_dropped;
  setText(fact(f, 'dropped', 'Dropped frames'), typeof forRate === 'number' && forRate > 0
    ? `${cam.frames_dropped} (${forRate} above the frame rate)` : cam.frames_dropped);
  setText(fact(f, 'age', 'Last frame'), cam.last_frame_age_ms < 0 ? 'never'
    : (cam.last_frame_age_ms / 1000).toFixed(1) + ' s ago');
  setText(fact(f, 'media', 'Streams'), cam.media);
  setText(fact(f, 'blocked_packets', 'Refused packets'), cam.blocked_packets);
  const total = attempts.reduce((n, a) => n + (a.count || 0), 0);
  const ph = fact(f, 'phonehome', 'Phone-home');
  ph.replaceChildren(attempts.length
    ? el('a', { href: '#attempts-heading' }, `${total} attempt${total === 1 ? '' : 's'}, ${attempts.length} destination${attempts.length === 1 ? '' : 's'}`) : 'none');
  ph.className = attempts.length ? 'bad' : '';
  fillExtras(f, cam, CAMERA_KNOWN);
  const err = fact(f, 'last_error', 'Last error');
  setText(err, cam.last_error);
  err.className = cam.last_error ? 'error' : '';
  const win = site ? site.window_seconds : 3600;
  drawPlot(c.plots.fps, hist, 'fps', win, false, 1);
  drawPlot(c.plots.kbps, hist, 'kbps', win, false, 0);
  drawPlot(c.plots.blocked, hist, 'blocked', win, true, 0);
}

// Loads the next snapshot off-screen and swaps it in when complete, so the
// card never shows a half-loaded picture.
function refreshSnapshot(c) {
  const next = new Image();
  const url = `snapshot/${encodeURIComponent(c.name)}.jpg?t=${Date.now()}`;
  next.className = 'thumb';
  next.decoding = 'async';
  next.addEventListener('load', () => {
    next.alt = c.live ? `Snapshot of camera ${c.name}`
      : `Slate shown to recorders while camera ${c.name} is not live`;
    next.width = next.naturalWidth;
    next.height = next.naturalHeight;
    next.dataset.loaded = 'yes';
    next.dataset.kind = c.live ? 'camera' : 'slate';
    c.img.replaceWith(next);
    c.img = next;
    setText(c.shot, (c.live ? 'Snapshot ' : 'Slate (camera not live) ') + isoLocal(new Date().toISOString()));
  });
  next.addEventListener('error', () => {
    c.img.dataset.loaded = c.img.dataset.loaded === 'yes' ? 'yes' : 'no';
    setText(c.shot, 'No snapshot available ' + isoLocal(new Date().toISOString()));
  });
  next.src = url;
}

// ---- recorders ------------------------------------------------------------------

const RECORDER_KNOWN = new Set(['name', 'sessions', 'auth_failures', 'bytes_sent']);

function drawRecorders(list, refused) {
  const tbody = document.querySelector('#recorders tbody');
  const rows = list.map((r) => {
    const cfg = site && site.recorders ? site.recorders[r.name] || {} : {};
    const cams = Array.isArray(cfg.cameras) ? cfg.cameras.join(', ').replace(/^\*$/, 'all (*)') : null;
    const watching = r.cameras ?? r.watching;
    const blocked = r.blocked_addresses ?? r.refused_addresses;
    const extras = Object.entries(r).filter(([k]) => !RECORDER_KNOWN.has(k) && !['cameras', 'watching',
      'blocked_addresses', 'refused_addresses'].includes(k));
    const name = el('th', { scope: 'row' }, r.name);
    for (const [k, v] of extras) name.append(el('span', { class: 'extra' }, `${label(k)}: ${anyValue(v)}`));
    return el('tr', {}, name,
      el('td', { class: 'n' }, String(r.sessions ?? '—')),
      el('td', {}, (watching !== undefined ? `watching ${anyValue(watching)}; ` : '') + (cams || '—')),
      el('td', { class: 'n' }, bytes(r.bytes_sent) || '—'),
      el('td', { class: 'n' + (r.auth_failures ? ' bad' : '') }, String(r.auth_failures ?? '—')),
      el('td', { class: 'addr' }, Array.isArray(cfg.addresses) ? cfg.addresses.join(', ') : '—'),
      el('td', { class: 'addr' + (Array.isArray(blocked) && blocked.length ? ' bad' : '') },
        blocked === undefined ? '—' : Array.isArray(blocked) ? (blocked.join(', ') || 'none') : anyValue(blocked)));
  });
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: '7', class: 'none' }, 'no recorders configured')));
  tbody.replaceChildren(...rows);
  setText(document.getElementById('refused'), refused);
}

// ---- the whole page -----------------------------------------------------------------

function draw(status) {
  const now = Date.now();
  setText(document.getElementById('summary'),
    `cordon ${status.version} · up ${duration(status.uptime_seconds)}, since ${isoLocal(status.started)} · ` +
    `${status.cameras.length} camera${status.cameras.length === 1 ? '' : 's'} · ${status.reloads} reload(s)` +
    (status.reload_failures ? `, ${status.reload_failures} refused` : ''));
  setText(document.getElementById('clock'),
    `Times in ISO 8601, site time zone ${zone.name} (UTC${offsetText(zone.offset_seconds)}, ${zone.abbreviation}). ` +
    `Updated ${isoLocal(new Date(now).toISOString())}.`);
  drawFirewall(status.firewall || {});

  const attempts = (status.firewall && Array.isArray(status.firewall.attempts)) ? status.firewall.attempts : [];
  const grid = document.getElementById('cameras');
  const seen = new Set();
  for (const cam of status.cameras) {
    // From the daemon's own samples: the browser's clock says nothing about
    // when the camera's frames arrived.
    const h = site && site.history ? site.history[cam.name] : null;
    const fps = h && h.length ? h[h.length - 1].fps : null;
    const c = cardFor(cam.name);
    drawCamera(c, cam, fps, attempts.filter((a) => a.camera === cam.name));
    if (c.article.parentNode !== grid || grid.children[seen.size] !== c.article) {
      grid.insertBefore(c.article, grid.children[seen.size] || null);
    }
    seen.add(cam.name);
  }
  for (const [name, c] of cards) {
    if (!seen.has(name)) {
      if (watcher) watcher.unobserve(c.article);
      c.article.remove();
      cards.delete(name);
    }
  }

  drawRecorders(status.recorders || [], status.refused_connections);

  drawAttempts(attempts, status.cameras);
}

async function getJson(url) {
  const r = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
  if (!r.ok) throw new Error(`${url} answered ${r.status}`);
  return r.json();
}

let polling = false;

async function poll() {
  if (polling) return;
  polling = true;
  const problem = document.getElementById('problem');
  try {
    const [status, s] = await Promise.all([getJson('/status'), getJson('site.json')]);
    site = s;
    if (s.timezone) setZone(s.timezone);
    draw(status);
    problem.hidden = true;
  } catch (e) {
    problem.hidden = false;
    setText(problem, `Cannot read the daemon's status (${e.message}); the figures below are from the last ` +
      'successful look.');
  } finally {
    polling = false;
  }
}

function snapshots() {
  if (document.visibilityState === 'hidden') return;
  for (const c of cards.values()) if (c.visible) refreshSnapshot(c);
}

async function start() {
  await poll();
  snapshots();
  setInterval(poll, POLL_MS);
  setInterval(snapshots, SNAPSHOT_MS);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') { poll(); snapshots(); } });
}

start();
