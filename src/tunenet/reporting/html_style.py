"""The HTML page's inline style and script (reporting/html.py puts them in the page).

Colours are variables so that dark mode (prefers-color-scheme) only swaps the palette; plots are
drawn with transparent backgrounds and nothing here puts a light box behind them. Wide tables
scroll in their own box (.scroll) so that the page never scrolls sideways on a phone; in the
trials table the rank and trial columns stay in view (position: sticky) while it scrolls.
"""

from __future__ import annotations

# The rank column's width: the trial column sticks this far from the left edge.
RANK_WIDTH = "4.6em"

HTML_STYLE = (
    (
        """
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#57606a;--line:#d0d7de;
--head:#f6f8fa;--stripe:#f6f8fa;--accent:#0969da;--best:#fff8c5;--bad:#cf222e;
--good-fit:#dafbe1;--high-bias:#fff1c2;--high-variance:#ddf4ff;--both:#ffd8d3;--grey:#eaeef2;
--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;
--line:#3d444d;--head:#151b23;--stripe:#151b23;--accent:#4493f8;--best:#3b2e00;--bad:#ff7b72;
--good-fit:#1b4721;--high-bias:#4b3800;--high-variance:#0c3a5e;--both:#5d1f1a;--grey:#2f353d;
--card:#151b23}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:var(--fg);background:var(--bg);overflow-wrap:break-word}
a{color:var(--accent)}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.2rem 0 .3rem}
.meta{color:var(--muted);margin:.2rem 0}
.verdict{background:var(--head);border-left:4px solid var(--accent);padding:.8rem 1rem}
.dashboard{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr);gap:1rem;
margin:1rem 0;align-items:start}
.cards{display:grid;gap:.6rem}.dashboard.no-plot{grid-template-columns:minmax(0,1fr)}
.no-plot .cards{grid-template-columns:repeat(auto-fit,minmax(min(100%,20em),1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6rem .9rem}
.card h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
margin:0 0 .2rem;border:0}
.card p{margin:.2rem 0}.card .big{font-size:1.25rem;font-weight:600}
.card.verdict-card{border-left:4px solid var(--accent)}
.hps{font-size:13px;color:var(--muted)}.hps code{color:var(--fg)}
.card .warn{border-left:3px solid var(--bad);padding-left:.5rem}
.dashboard figure{margin:0}
nav.contents{margin:1rem 0}nav.contents ol{columns:2 18em;margin:.3rem 0;padding-left:1.4rem}
nav.contents li{break-inside:avoid}nav.contents ul{margin:0 0 .3rem;padding-left:1.1rem;
font-size:14px;list-style:circle}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6rem 0;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--head)}tbody tr:nth-child(even){background:var(--stripe)}
th button{all:inherit;display:inline;cursor:pointer;padding:0;border:0;background:none;
position:static;box-shadow:none}
th button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
th.hp{white-space:nowrap}
table.sortable th button::after{content:"\\a0\\2195";color:var(--muted)}
table.sortable th[aria-sort=ascending] button::after{content:"\\a0\\2191";color:var(--fg)}
table.sortable th[aria-sort=descending] button::after{content:"\\a0\\2193";color:var(--fg)}
tr.best td{background:var(--best);font-weight:600}
tr.best td:first-child{box-shadow:inset 4px 0 var(--accent)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.long{min-width:13em}
TRIALS{border-collapse:separate;border-spacing:0}
TRIALS th,TRIALS td{border-width:0 1px 1px 0}
TRIALS tr>:first-child{border-left-width:1px}
TRIALS thead th{border-top-width:1px}
TRIALS td{background:var(--bg)}
TRIALS tbody tr:nth-child(even) td{background:var(--stripe)}
TRIALS tr.best td{background:var(--best)}
TRIALS tr>:nth-child(1),TRIALS tr>:nth-child(2){position:sticky;z-index:1}
TRIALS tr>:nth-child(1){left:0;width:RANK;min-width:RANK;max-width:RANK;white-space:nowrap}
TRIALS tr>:nth-child(2){left:RANK;box-shadow:2px 0 0 var(--line)}
.lbl{border-radius:4px;padding:0 5px;white-space:nowrap;color:var(--fg)}
.good-fit{background:var(--good-fit)}.high-bias{background:var(--high-bias)}
.high-variance{background:var(--high-variance)}.high-bias-and-high-variance{background:var(--both)}
.not-learning{background:var(--both)}.uncertain,.pruned{background:var(--grey)}
.status-diverged,.status-failed,.diverged,.failed{color:var(--bad)}
.effects{display:flex;flex-wrap:wrap;gap:1.2rem}.effects>div{min-width:0;max-width:100%}
.effects table{margin:0}
img{max-width:100%;height:auto}
figure.plot{margin:1rem 0 1.6rem}figure.plot h3{margin-top:0}
.plot-box{position:relative;display:inline-block;max-width:100%;vertical-align:top;
border:1px solid var(--line);border-radius:4px}
.plot-box img{display:block}
.plot-box svg{position:absolute;left:0;top:0;width:100%;height:100%;pointer-events:none}
.plot-box circle{pointer-events:all;fill:transparent;cursor:help}
.plot-box circle:hover{stroke:var(--accent);stroke-width:2px;vector-effect:non-scaling-stroke}
figcaption{color:var(--muted);font-size:14px;max-width:70em;margin-top:.3rem}
figcaption .how{display:block;color:var(--fg);margin-top:.2rem}
@media (max-width:800px){.dashboard{grid-template-columns:minmax(0,1fr)}}
@media (max-width:600px){body{margin:1rem auto;padding:0 .6rem}h1{font-size:1.3rem}
.card .big{font-size:1.1rem}
table[data-table=summary] .minor{display:none}table[data-table=summary] td.long{min-width:9em}}
"""
    )
    .replace("RANK", RANK_WIDTH)
    .replace("TRIALS", "table[data-table=trials]")
)


# A click (or Enter/Space: headers are buttons) sorts by that column: ascending first, again for
# descending. Numbers sort as numbers, text as text, empty cells last either way. aria-sort moves
# to the sorted column.
HTML_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort");
        var y = b.cells[column].getAttribute("data-sort");
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var nx = Number(x), ny = Number(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
