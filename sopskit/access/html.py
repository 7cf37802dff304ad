"""The access matrix as one self-contained HTML page (no network, no external assets).

The table is rendered here (it reads without JavaScript); a small inline script adds the
filters (path, cluster, key, problems only), keeps the shown counts true and mirrors the
filters in the URL fragment (`#path=apps/&cluster=prod`), so a filtered view can be
linked. Sticky headers and a sticky path column keep 500 files x 30 keys readable; colours
follow the system's light or dark scheme, and a button switches them.
"""

from __future__ import annotations

import json
from html import escape

from sopskit.access.matrix import CELL_STATES, PROBLEM_STATUSES, Column, Matrix, cell

PROBLEM_CELLS = frozenset({"revoked", "missing", "unauthorised", "retired"})
SYMBOL = {"revoked": "V", "missing": "M", "unauthorised": "U", "retired": "R",
          "reads": "", "unruled": "", "none": ""}

CSS = """
:root{--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--hover:#eef4ff;
--ok:#1a7f37;--unruled:#8c959f;--miss:#cf222e;--unauth:#bc4c00;--retired:#9a6700;--rev:#cf222e;
--probrow:#fff1f0;--dir:#eaeef2;color-scheme:light}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#0d1117;--fg:#e6edf3;
--muted:#9198a1;--line:#3d444d;--head:#151b23;--hover:#1c2a3f;--ok:#3fb950;--unruled:#656c76;
--miss:#ff7b72;--unauth:#f0883e;--retired:#d29922;--rev:#ff7b72;--probrow:#2d1518;--dir:#212830;
color-scheme:dark}}
:root[data-theme=dark]{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--head:#151b23;
--hover:#1c2a3f;--ok:#3fb950;--unruled:#656c76;--miss:#ff7b72;--unauth:#f0883e;
--retired:#d29922;--rev:#ff7b72;--probrow:#2d1518;--dir:#212830;color-scheme:dark}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);
color:var(--fg)}
header{padding:12px 16px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;
gap:8px 24px;align-items:baseline}
h1{font-size:18px;margin:0}
.meta{color:var(--muted)}
.counts b{font-variant-numeric:tabular-nums}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:8px 16px;
border-bottom:1px solid var(--line)}
.controls input[type=search],.controls select{font:inherit;padding:4px 6px;
border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.controls input[type=search]{width:22em}
.controls select{max-width:22em}
button{font:inherit;padding:4px 10px;border:1px solid var(--line);border-radius:6px;
background:var(--head);color:var(--fg);cursor:pointer}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;padding:6px 16px;color:var(--muted);
font-size:12px;border-bottom:1px solid var(--line)}
.legend span{display:inline-flex;gap:6px;align-items:center}
.wrap{overflow:auto;max-height:calc(100vh - 150px)}
table{border-collapse:separate;border-spacing:0;font-size:12px}
th,td{border-right:1px solid var(--line);border-bottom:1px solid var(--line);padding:0}
thead th{position:sticky;background:var(--head);z-index:2}
thead tr.groups th{top:0;height:24px;padding:2px 6px;text-align:left;white-space:nowrap;
font-weight:600}
thead tr.groups div.g{overflow:hidden;text-overflow:ellipsis;min-width:10px}
thead tr.keys th{top:24px;height:150px;vertical-align:bottom;max-width:22px}
thead tr.keys th div{writing-mode:vertical-rl;transform:rotate(180deg);padding:6px 4px;
white-space:nowrap;max-height:146px;overflow:hidden;text-overflow:ellipsis}
thead th.st-revoked div,thead th.st-retired div,thead th.st-expired div{
text-decoration:line-through}
thead th.corner{left:0;z-index:3;text-align:left;vertical-align:bottom;padding:6px 8px}
tbody th{position:sticky;left:0;background:var(--bg);z-index:1;text-align:left;
font-weight:normal;padding:2px 8px;white-space:nowrap;max-width:38em;overflow:hidden;
text-overflow:ellipsis}
tbody tr.dir th{background:var(--dir);font-weight:600;color:var(--muted)}
tbody tr.dir td{background:var(--dir)}
tbody tr.problem th{background:var(--probrow);box-shadow:inset 3px 0 var(--miss)}
tbody tr:hover th,tbody tr:hover td{background:var(--hover)}
td.cell{width:22px;min-width:22px;max-width:22px;height:20px;text-align:center;font-weight:700}
td.reads::before{content:"";display:inline-block;width:10px;height:10px;border-radius:50%;
background:var(--ok)}
td.unruled::before{content:"";display:inline-block;width:10px;height:10px;border-radius:50%;
border:2px solid var(--unruled)}
td.missing{color:var(--miss);box-shadow:inset 0 0 0 2px var(--miss)}
td.unauthorised{color:#fff;background:var(--unauth)!important}
td.retired{color:#fff;background:var(--retired)!important}
td.revoked{color:#fff;background:var(--rev)!important}
td.n{padding:0 6px;text-align:right;color:var(--miss);font-weight:700}
.hide{display:none}
"""

JS = r"""
(function(){
const q=s=>document.querySelector(s), qa=s=>Array.from(document.querySelectorAll(s));
const heads=qa('thead tr.keys th.key'), rows=qa('tbody tr.file'), dirs=qa('tbody tr.dir');
const path=q('#f-path'), cluster=q('#f-cluster'), key=q('#f-key'), probs=q('#f-problems');
const style=document.createElement('style'); document.head.appendChild(style);
const PROBLEM=new Set(['revoked','missing','unauthorised','retired']);
const cells=rows.map(r=>Array.from(r.querySelectorAll('td.cell'))
 .map(c=>c.className.split(' ')[2]));
function fromHash(){const h=new URLSearchParams(location.hash.slice(1));
 path.value=h.get('path')||''; cluster.value=h.get('cluster')||''; key.value=h.get('key')||'';
 probs.checked=h.get('problems')==='1';}
function toHash(){const h=new URLSearchParams();
 if(path.value)h.set('path',path.value); if(cluster.value)h.set('cluster',cluster.value);
 if(key.value)h.set('key',key.value); if(probs.checked)h.set('problems','1');
 const s=h.toString(); history.replaceState(null,'',s?'#'+s:location.pathname+location.search);}
function apply(){
 const p=path.value.trim().toLowerCase(), c=cluster.value, k=key.value, only=probs.checked;
 const cols=heads.map(h=>(!c||h.dataset.clusters.split(' ').includes(c))&&(!k||h.dataset.name===k));
 style.textContent=cols.map((v,i)=>v?'':'.c'+i+'{display:none}').join('');
 let files=0, problemCells=0; const shownDirs=new Set();
 rows.forEach((r,i)=>{
  let touched=false, n=0;
  cells[i].forEach((s,j)=>{if(!cols[j])return; if(s!=='none')touched=true; if(PROBLEM.has(s))n++;});
  const show=(!p||r.dataset.path.toLowerCase().includes(p))&&(!(c||k)||touched)&&(!only||n>0);
  r.classList.toggle('hide',!show);
  if(show){files++; problemCells+=n; shownDirs.add(r.dataset.dir);}
 });
 dirs.forEach(d=>d.classList.toggle('hide',!shownDirs.has(d.dataset.dir)));
 qa('thead th.group').forEach(g=>{const a=Number(g.dataset.start);
  const n=cols.slice(a,a+Number(g.dataset.span)).filter(Boolean).length;
  g.classList.toggle('hide',n===0); if(n){g.colSpan=n;
   g.firstChild.style.width=Math.max(n*23-12,Math.min(g.title.length*7+4,88))+'px';}});
 q('#shown-files').textContent=files; q('#shown-keys').textContent=cols.filter(Boolean).length;
 q('#shown-problems').textContent=problemCells;
}
function changed(){apply(); toHash();}
[path,cluster,key,probs].forEach(e=>e.addEventListener('input',changed));
q('#f-clear').addEventListener('click',()=>{path.value='';cluster.value='';key.value='';
 probs.checked=false; changed();});
q('#theme').addEventListener('click',()=>{const r=document.documentElement;
 const dark=r.dataset.theme?r.dataset.theme==='dark'
  :matchMedia('(prefers-color-scheme: dark)').matches;
 r.dataset.theme=dark?'light':'dark';});
document.querySelector('tbody').addEventListener('mouseover',e=>{
 const td=e.target.closest('td.cell'); if(!td||td.title)return;
 const i=Number(td.className.split(' ')[1].slice(1)), tr=td.parentElement;
 td.title=heads[i].dataset.name+' \u00b7 '+tr.dataset.path+': '+WHY[td.className.split(' ')[2]];});
window.addEventListener('hashchange',()=>{fromHash();apply();});
fromHash(); apply();
})();
"""

WHY = {state: meaning for state, _, meaning in CELL_STATES}


def _shown(column: Column) -> str:
    """A column's name as a header shows it: a recipient the registry does not know is
    shortened (`age1abcdef…wxyz`); the full one is in the tooltip and the JSON."""
    if column.status != "unregistered" or len(column.recipient) <= 28:
        return column.name
    rid = column.recipient.partition(":")[2]
    return f"{rid[:10]}…{rid[-4:]}"


def _why_json() -> str:
    """The legend's meanings for the cell tooltips (`<` escaped: inside a script element)."""
    return json.dumps(WHY).replace("<", "\\u003c")


def _named(matrix: Matrix) -> list[tuple[Column, str]]:
    """Each column with its group's label: its clusters ("all clusters" for an admin key)."""
    every = [c for c in matrix.clusters() if c != "(none)"]
    out = []
    for c in matrix.keys:
        label = ("all clusters" if len(every) > 1 and set(c.clusters) == set(every)
                 else ", ".join(c.clusters) if c.clusters
                 else "not in the registry" if c.status == "unregistered" else "no cluster")
        out.append((c, label))
    return out


def _group_width(label: str, span: int) -> int:
    """The columns' width, or up to ~12 characters of the label for a narrow group (a
    one-key cluster stays readable; longer labels are cut, the title has them whole)."""
    return max(span * 23 - 12, min(len(label) * 7 + 4, 88))


def _groups(named: list[tuple[Column, str]]) -> list[tuple[str, int]]:
    """Consecutive columns with the same clusters: (label, span)."""
    out: list[tuple[str, int]] = []
    for _, label in named:
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1] + 1)
        else:
            out.append((label, 1))
    return out


def _head(matrix: Matrix) -> list[str]:
    # the label never widens its columns: it is cut to their width (the title has it all)
    groups, start = [], 0
    for label, span in _groups(_named(matrix)):
        groups.append(f'<th class="group" colspan="{span}" data-start="{start}" '
                      f'data-span="{span}" title="{escape(label)}"><div class="g" '
                      f'style="width:{_group_width(label, span)}px">{escape(label)}</div></th>')
        start += span
    keys = "".join(
        f'<th class="key c{i} st-{escape(c.status)}" data-name="{escape(c.name)}" '
        f'data-clusters="{escape(" ".join(c.clusters))}" '
        f'title="{escape(c.name)}: {escape(c.status)}, {escape(c.recipient)}">'
        f"<div>{escape(_shown(c))}"
        f"{'' if c.status in ('active', 'unregistered') else ' (' + escape(c.status) + ')'}"
        "</div></th>" for i, c in enumerate(matrix.keys))
    return ['<thead><tr class="groups"><th class="corner" rowspan="2">file '
            '<span class="meta">(problems)</span></th>'
            f"{''.join(groups)}<th></th></tr>", f'<tr class="keys">{keys}<th></th></tr></thead>']


def _body(matrix: Matrix) -> list[str]:
    out = ["<tbody>"]
    directory = None
    span = len(matrix.keys) + 1
    for row in matrix.files:
        if row.directory != directory:
            directory = row.directory
            out.append(f'<tr class="dir" data-dir="{escape(directory)}"><th>'
                       f'{escape(directory)}/</th><td colspan="{span}"></td></tr>')
        states = [cell(matrix, row, c) for c in matrix.keys]
        n = sum(1 for s in states if s in PROBLEM_CELLS)
        tds = "".join(f'<td class="cell c{i} {s}">{SYMBOL[s]}</td>' for i, s in enumerate(states))
        out.append(f'<tr class="file{" problem" if n else ""}" data-path="{escape(row.path)}" '
                   f'data-dir="{escape(directory)}"><th title="{escape(row.path)}">'
                   f"{escape(row.path.rpartition('/')[2])}</th>{tds}"
                   f'<td class="n">{n or ""}</td></tr>')
    out.append("</tbody>")
    return out


def _controls(matrix: Matrix) -> str:
    clusters = "".join(f'<option value="{escape(c)}">{escape(c)}</option>'
                       for c in matrix.clusters() if c != "(none)")
    keys = "".join(f'<option value="{escape(c.name)}">{escape(_shown(c))}</option>'
                   for c in matrix.keys)
    return ('<div class="controls"><input type="search" id="f-path" placeholder="filter by '
            'path (substring)" aria-label="path filter">'
            f'<select id="f-cluster" aria-label="cluster"><option value="">all clusters'
            f"</option>{clusters}</select>"
            f'<select id="f-key" aria-label="key"><option value="">all keys</option>{keys}'
            '</select><label><input type="checkbox" id="f-problems"> problems only</label>'
            '<button id="f-clear" type="button">clear</button>'
            '<button id="theme" type="button" title="switch light / dark">light / dark'
            "</button></div>")


def _legend() -> str:
    items = "".join(f'<span><table><tr><td class="cell c {s}">{SYMBOL[s]}</td></tr></table>'
                    f"{escape(s)}: {escape(meaning)}</span>"
                    for s, _, meaning in CELL_STATES if s != "none")
    return f'<div class="legend">{items}</div>'


def render(matrix: Matrix, *, title: str = "sopskit access") -> str:
    problems = sum(matrix.problems(r) for r in matrix.files)
    where = f"commit {escape(matrix.rev)}" if matrix.rev else "working tree"
    stale = sum(1 for c in matrix.keys if c.status in PROBLEM_STATUSES)
    header = (f"<header><h1>{escape(title)}</h1><span class='meta'>{where}; expected "
              f"readers from {escape(matrix.source)}</span><span class='counts'>"
              f'<b id="count-files">{len(matrix.files)}</b> files, '
              f'<b id="count-keys">{len(matrix.keys)}</b> keys ({stale} retired, revoked or '
              f'expired), <b id="count-problems">{problems}</b> problem cells; shown: '
              f'<b id="shown-files">{len(matrix.files)}</b> files, '
              f'<b id="shown-keys">{len(matrix.keys)}</b> keys, '
              f'<b id="shown-problems">{problems}</b> problems</span></header>')
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             # no network: nothing outside this file may load, whatever the content says
             '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
             "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">",
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>", header,
             _controls(matrix), _legend(), '<div class="wrap"><table id="matrix">',
             *_head(matrix), *_body(matrix), "</table></div>",
             f"<script>const WHY={_why_json()};{JS}</script>",
             "</body></html>"]
    return "\n".join(parts) + "\n"
