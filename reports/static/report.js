/* The report's findings list: unpacks the embedded findings (gzip + base64 JSON), filters,
   sorts and pages them, opens a finding with its inputs, expected vs observed, error, registry
   entry and reproducer, and copies reproducers. Data is only ever written with textContent,
   so nothing a library wrote can become markup. Links inside the page:
     #findings?env=torch&api=...&category=values   the list, filtered
     #finding=<env>/<id>                            one finding, opened
     #registry?q=<entry id>                         the registry, searched for an entry
     #overview?row=...&category=...&library=...     an overview cell's APIs by dtype
     #issue=<env>/<id>                              one finding, its upstream issue text open  */
(function () {
  "use strict";

  var PAGE = 20;  // rows a page: the list stays within a screen or two
  var SELECTS = ["library", "env", "backend", "mode", "row", "api", "category", "check", "dtype", "outcome", "group",
                 "kind", "diff"];
  var DTYPES = ["float16", "bfloat16", "float32", "float64"];
  var NONFINITE = { "nan": NaN, "inf": Infinity, "-inf": -Infinity };
  var state = { data: null, shown: [], page: 0, sortKey: null, sortDir: 1, open: null };

  function $(id) { return document.getElementById(id); }
  function num(v) {
    if (typeof v === "number") return v;
    if (typeof v === "string" && v in NONFINITE) return NONFINITE[v];
    return NaN;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "-";
    var x = num(v);
    if (isNaN(x)) return typeof v === "string" ? v : "nan";
    if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (x === 0) return "0";
    var a = Math.abs(x);
    return (a >= 1e4 || a < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // --- loading ----------------------------------------------------------------------------------
  // The findings of every results file are embedded gzip + base64 (reports/payload.py); so are
  // the report's facts: which findings are the only ones of their case, and the diff marks.
  function unpack(node) {
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot unpack the findings (no DecompressionStream: " +
        "use Chrome 80, Firefox 113, Safari 16.4 or later)"));
    }
    var binary = atob(node.textContent.trim());
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  // A case the harness (the adapter, its worker, the machine) failed on: no verdict about the
  // library, so no kind of finding, and nothing the registry explains.
  var HARNESS_ERROR = "harness-error";

  // The registry entries are the registry section's rows, each once in the page (reports/
  // registry.py): env -> id -> {kind, reason, link, actual where the entry states one}.
  function registryEntries() {
    var byEnv = {};
    Array.prototype.forEach.call(document.querySelectorAll("tr.registry-entry[data-id]"), function (row) {
      var entry = { kind: row.querySelector("td.kind").textContent, reason: row.querySelector("span.reason").textContent,
                    link: row.querySelector("td.link .entry-link").textContent };
      if (row.hasAttribute("data-actual")) entry.actual = JSON.parse(row.getAttribute("data-actual"));
      row.getAttribute("data-envs").split(" ").forEach(function (env) {
        (byEnv[env] = byEnv[env] || Object.create(null))[row.getAttribute("data-id")] = entry;
      });
    });
    return byEnv;
  }

  // The findings travel column by column (reports/payload.py, table); a field a record
  // leaves out is null in its column, and left out of the record again here.
  function rowsOf(table) {
    var optional = {}, fields = Object.keys(table.columns), rows = [];
    table.optional.forEach(function (k) { optional[k] = true; });
    for (var i = 0; i < table.count; i++) {
      var r = {};
      for (var j = 0; j < fields.length; j++) {
        var v = table.columns[fields[j]][i];
        if (v !== null || !optional[fields[j]]) r[fields[j]] = v;
      }
      rows.push(r);
    }
    return rows;
  }

  function kindOf(r, deviations) {
    if (r.outcome === HARNESS_ERROR) return HARNESS_ERROR;
    if (r.deviation) return deviations[r.deviation] ? deviations[r.deviation].kind : "unknown entry";
    return r.outcome === "match" || r.outcome === "unsupported" ? "" : "unregistered";
  }

  // The first screen's kinds (reports/summary.py, group_of): equivalence findings are
  // inconsistent paths, then the registry entry's kind, else unsupported or unexplained.
  // Harness errors are a group of their own, in none of the library's counts.
  function groupOf(r, deviations) {
    if (r.outcome === "match") return "";
    if (r.outcome === HARNESS_ERROR) return HARNESS_ERROR;
    if (r.category === "equivalence") return "inconsistent-paths";
    if (r.deviation && deviations[r.deviation]) return deviations[r.deviation].kind;
    return r.outcome === "unsupported" ? "unsupported" : "unexplained";
  }

  function load() {
    return Promise.all([unpack($("report-facts")), unpack($("results-data"))]).then(function (parts) {
      var facts = parts[0], doc = parts[1];
      var data = { findings: rowsOf(doc.findings), deviations: registryEntries(), environments: doc.environments,
                   severity: facts.severity, categories: facts.categories, overview: facts.overview };
      var overview = facts.overview;
      var lone = {};
      Object.keys(facts.lone).forEach(function (env) {
        facts.lone[env].forEach(function (id) { lone[env + "/" + id] = true; });
      });
      data.findings.forEach(function (r) {
        var deviations = data.deviations[r.env] = data.deviations[r.env] || Object.create(null);
        r.kind = kindOf(r, deviations);
        r.group = groupOf(r, deviations);
        r.lone = lone[r.env + "/" + r.id] === true;
        r.diff = (facts.diff[r.env] || {})[r.id] || "";
        // the overview's row, column and unit of the finding (reports/overview.py)
        r.library = overview.libraries[r.backend] || r.backend;
        r.row = overview.rows[r.loss] || r.loss;
        r.mode = overview.modes[r.api] || "eager";
      });
      return data;
    });
  }

  // --- filtering and sorting ----------------------------------------------------------------------
  function filters() {
    var form = $("filters"), f = {};
    SELECTS.forEach(function (name) { var s = form.elements[name]; f[name] = s ? s.value : ""; });
    f.lone = form.elements.lone.checked;
    f.matches = form.elements.matches.checked;
    f.q = form.elements.q.value.trim().toLowerCase();
    return f;
  }

  function haystack(r) {
    if (r._text === undefined) {
      var parts = [r.id, r.case || "", r.api, r.deviation || "", r.env, r.backend];
      if (r.observed && typeof r.observed === "object" && !Array.isArray(r.observed)) {
        parts.push(r.observed.error, r.observed.message, r.observed.cause || "");
      }
      (r.failed_claims || []).forEach(function (c) { parts.push(c.id); });
      r._text = parts.join("\n").toLowerCase();
    }
    return r._text;
  }

  function matches(r, f) {
    for (var i = 0; i < SELECTS.length; i++) {
      var k = SELECTS[i];
      if (f[k] && String(r[k] === null || r[k] === undefined ? "" : r[k]) !== f[k]) return false;
    }
    if (f.lone && !r.lone) return false;
    if (!f.matches && r.outcome === "match") return false;
    if (f.q && haystack(r).indexOf(f.q) < 0) return false;
    return true;
  }

  function sortValue(r, key) {
    var d = state.data;
    switch (key) {
      case "ulp": return r.error ? num(r.error.ulp) : NaN;
      case "ratio": return r.error ? num(r.error.bound_ratio) : NaN;
      case "outcome": return d.severity.indexOf(r.outcome);
      case "category": return d.categories.indexOf(r.category);
      case "dtype": return DTYPES.indexOf(r.dtype);
      case "case": return r.case || r.id;
      default: return r[key] === null || r[key] === undefined ? "" : String(r[key]);
    }
  }

  function compare(a, b) {
    var key = state.sortKey, dir = state.sortDir;
    var x = sortValue(a, key), y = sortValue(b, key);
    if (typeof x === "number" && typeof y === "number") {
      var nx = isNaN(x), ny = isNaN(y);
      if (nx || ny) return nx === ny ? 0 : (nx ? 1 : -1);  // nan last, whatever the direction
      return x === y ? 0 : (x < y ? -dir : dir);
    }
    return x === y ? 0 : (x < y ? -dir : dir);
  }

  function refresh(keepPage) {
    var f = filters();
    var all = state.data.findings;
    var shown = [];
    for (var i = 0; i < all.length; i++) if (matches(all[i], f)) shown.push(all[i]);
    if (state.sortKey) shown.sort(compare);
    state.shown = shown;
    if (!keepPage) state.page = 0;
    render();
  }

  // --- rendering --------------------------------------------------------------------------------
  function render() {
    var body = $("findings-body");
    body.textContent = "";
    var total = state.shown.length;
    var pages = Math.max(1, Math.ceil(total / PAGE));
    state.page = Math.min(state.page, pages - 1);
    var start = state.page * PAGE, end = Math.min(total, start + PAGE);
    for (var i = start; i < end; i++) {
      var r = state.shown[i];
      var tr = rowOf(r);
      body.appendChild(tr);
      if (state.open === r) {
        tr.classList.add("open");
        tr.setAttribute("aria-expanded", "true");
        body.appendChild(detailsOf(r));
      }
    }
    var all = state.data.findings.length;
    $("findings-status").textContent = total
      ? "Showing " + (start + 1) + "\u2013" + end + " of " + total + " (of " + all + " records)"
      : "No finding matches these filters (of " + all + " records).";
    var pager = $("pager");
    pager.textContent = "";
    if (pages > 1) {
      var prev = el("button", { type: "button", id: "page-prev" }, "\u2190 previous");
      prev.disabled = state.page === 0;
      prev.onclick = function () { state.page--; render(); };
      var next = el("button", { type: "button", id: "page-next" }, "next \u2192");
      next.disabled = state.page >= pages - 1;
      next.onclick = function () { state.page++; render(); };
      pager.appendChild(prev);
      pager.appendChild(el("span", null, "page " + (state.page + 1) + " of " + pages));
      pager.appendChild(next);
    }
  }

  function rowOf(r) {
    var tr = el("tr", { "class": "row", tabindex: "0", "data-env": r.env, "data-id": r.id, "aria-expanded": "false" });
    var cells = [r.env, r.api, r.category, r.check + (r.wrt && r.wrt !== "input" ? " (" + r.wrt + ")" : ""),
                 r.dtype, r.case || r.id, null, r.error ? fmt(r.error.ulp) : "-",
                 r.error ? fmt(r.error.bound_ratio) : "-", r.kind || "-"];
    cells.forEach(function (text, i) {
      var td = el("td");
      if (i === 6) {
        td.appendChild(el("span", { "class": "badge o-" + r.outcome }, r.outcome));
        if (r.diff) td.appendChild(el("span", { "class": "badge" }, r.diff));
      } else {
        td.textContent = text;
      }
      if (i === 7 || i === 8) td.className = "num";
      if (i === 9 && r.kind === "unregistered") td.className = "kind-unregistered";
      tr.appendChild(td);
    });
    function toggle() {
      state.open = state.open === r ? null : r;
      render();
      if (state.open === r) {
        history.replaceState(null, "", "#finding=" + encodeURIComponent(r.env) + "/" + encodeURIComponent(r.id));
      }
    }
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
    return tr;
  }

  function shapeOf(v) {
    var s = [];
    while (Array.isArray(v)) { s.push(v.length); v = v[0]; }
    return s;
  }

  function arrayText(v, limit) {
    var count = 0;
    function rec(x) {
      if (Array.isArray(x)) {
        var parts = [];
        for (var i = 0; i < x.length; i++) {
          if (count >= limit) { parts.push("\u2026 " + (x.length - i) + " more"); break; }
          parts.push(rec(x[i]));
        }
        return "[" + parts.join(", ") + "]";
      }
      count++;
      return typeof x === "number" ? String(x) : String(x);
    }
    var shape = shapeOf(v);
    return (shape.length ? "shape (" + shape.join(", ") + ")\n" : "") + rec(v);
  }

  // A big array travels as a summary (reports/payload.py); the results file holds it in full.
  function summaryText(a) {
    return "shape (" + a.shape.join(", ") + "), " + a.size + " elements: min " + fmt(a.min) +
      ", max " + fmt(a.max) + (a.nonfinite ? ", " + a.nonfinite + " not finite" : "") +
      "\nfirst values [" + a.first.map(fmt).join(", ") + ", \u2026]" +
      "\nToo big for this page: the full array is in the results file " + a.file +
      " (the reproducer reads it from there).";
  }

  function isSummary(v) { return v !== null && typeof v === "object" && !Array.isArray(v) && v.array; }

  function valueText(v) {
    if (isSummary(v)) return summaryText(v.array);
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return v.error + ": " + v.message + (v.cause ? "\nCause (the harness's, not the library's): " + v.cause : "");
    }
    if (v === "invalid") return "invalid input (the library should raise)";
    return arrayText(v, 400);
  }

  function dl(pairs) {
    var d = el("dl");
    pairs.forEach(function (p) {
      if (p[1] === undefined) return;
      d.appendChild(el("dt", null, p[0]));
      var dd = el("dd");
      if (p[1] instanceof Node) dd.appendChild(p[1]); else dd.textContent = p[1] === null ? "-" : String(p[1]);
      d.appendChild(dd);
    });
    return d;
  }

  function safeUrl(link) {
    var t = String(link || "").trim();
    return /^https?:\/\/\S+$/i.test(t) ? t : null;
  }

  function block(title, content) {
    var div = el("div");
    div.appendChild(el("h4", null, title));
    div.appendChild(content);
    return div;
  }

  function detailsOf(r) {
    var tr = el("tr", { "class": "details" });
    var td = el("td", { colspan: "10" });
    var grid = el("div", { "class": "detail-grid", "data-finding": r.id });
    var version = r.backend + " " + r.backend_version;
    grid.appendChild(block("Case", dl([
      ["id", r.id], ["case", r.case], ["API", r.api], ["backend", version + " (env " + r.env + ")"],
      ["loss", r.loss], ["category", r.category],
      ["check", r.check + (r.wrt ? " with respect to " + r.wrt : "")], ["dtype", r.dtype],
      ["options", JSON.stringify(r.options)],
      ["magnitude", r.magnitude === undefined ? undefined : fmt(r.magnitude)]
    ])));
    var e = r.error;
    grid.appendChild(block("Error", e ? dl([
      ["ulp", fmt(e.ulp)], ["allowed bound (ulp)", e.bound === undefined ? "-" : fmt(e.bound)],
      ["error / bound", fmt(e.bound_ratio)], ["absolute", fmt(e.abs)], ["relative", fmt(e.rel)],
      ["worst element", e.index ? "[" + e.index.join(", ") + "]" : "-"]
    ]) : el("p", null, "No numeric error: " + r.outcome + ".")));
    grid.appendChild(block("Expected (oracle)", el("pre", { "class": "expected" }, valueText(r.expected))));
    grid.appendChild(block(r.outcome === HARNESS_ERROR ? "The harness failed" : "Observed (" + r.backend + ")",
                           el("pre", { "class": "observed" }, valueText(r.observed))));
    var inputs = el("div");
    Object.keys(r.inputs).forEach(function (name) {
      inputs.appendChild(el("div", { "class": "input-name" }, name));
      var input = r.inputs[name];
      inputs.appendChild(el("pre", null, isSummary(input) ? summaryText(input.array) : arrayText(input, 400)));
    });
    grid.appendChild(block("Inputs (as fed to the library)", inputs));
    var entry = r.deviation ? (state.data.deviations[r.env] || {})[r.deviation] : null;
    var registry;
    if (entry) {
      var url = safeUrl(entry.link), link;
      if (url) {
        link = el("a", { href: url, "class": "registry-link", rel: "noreferrer noopener", target: "_blank" }, entry.link);
      } else {
        link = entry.link;
      }
      registry = dl([["entry", r.deviation], ["kind", entry.kind], ["reason", entry.reason], ["link", link],
                     ["actual", entry.actual === undefined ? undefined : JSON.stringify(entry.actual)]]);
    } else if (r.deviation) {
      registry = el("p", null, "Entry " + r.deviation + " is not in this env's registry.");
    } else if (r.outcome === "match") {
      registry = el("p", null, "Matches the oracle (a sweep point).");
    } else if (r.outcome === HARNESS_ERROR) {
      registry = el("p", { "class": "harness" }, "A harness error: the harness failed on this case (" +
        (r.observed && r.observed.cause || "cause not recorded") +
        "), so the library got no verdict. It is not a finding of the library, the registry does not apply, and it fails the run.");
    } else {
      registry = el("p", { "class": "bad" }, "Not in the deviation registry: this finding fails the run.");
    }
    var claims = el("div");
    claims.appendChild(registry);
    (r.failed_claims || []).forEach(function (c) {
      claims.appendChild(el("p", { "class": "failed-claim" }, "Entry " + c.id +
        " selected this finding, but its claim did not hold: " + c.why));
    });
    grid.appendChild(block("Deviation registry", claims));
    if (r.reproducer) {
      grid.appendChild(copyBlock("reproducer", "Reproducer", "Copy reproducer", r.reproducer));
    } else {
      grid.appendChild(block("Reproducer", el("p", null, "None: the library call was never made.")));
    }
    var issue = issueMarkdown(r, r.env, state.data.environments[r.env] || {}, state.data.deviations[r.env] || {});
    if (issue !== null) {
      grid.appendChild(copyBlock("upstream-issue", "Upstream issue (Markdown)", "Copy as an upstream issue", issue, true));
    }
    td.appendChild(grid);
    tr.appendChild(td);
    return tr;
  }

  // A titled text with a button that copies it; a collapsed text opens on "show".
  function copyBlock(cls, title, label, text, collapsed) {
    var box = el("div", { "class": cls });
    box.appendChild(el("h4", null, title));
    var button = el("button", { type: "button", "class": "copy" }, label);
    var code = el("pre", { "class": cls + "-source" });
    code.appendChild(el("code", null, text));
    var holder = collapsed ? el("details") : null;
    button.addEventListener("click", function (ev) {
      ev.stopPropagation();
      copyText(text).then(function (via) {
        button.textContent = "Copied";
        button.className = "copy copied";
        button.setAttribute("data-copied-via", via);
      }, function () {
        button.textContent = "Copy failed: select the text and press Ctrl+C";
        button.className = "copy failed";
        if (holder) holder.open = true;
        var range = document.createRange();
        range.selectNodeContents(code);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      });
    });
    box.appendChild(button);
    if (holder) {
      holder.appendChild(el("summary", null, "show the text"));
      holder.appendChild(code);
      box.appendChild(holder);
    } else {
      box.appendChild(code);
    }
    return box;
  }

  // --- a finding as an upstream issue: the twin of reports/issue.py, which defines the format
  // (read it there); the same data gives the same text, and a test holds the two equal --------
  var ISSUE_MAX_SHOWN = 16, NOT_AN_ISSUE = ["match", HARNESS_ERROR];

  function zeros(n) { return new Array(Math.max(0, n) + 1).join("0"); }

  // [sign, digits, e] of the shortest decimal that reads back as x: x = d.ddd * 10**e
  function shortest(x) {
    var m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(x).toExponential());
    return [x < 0 ? "-" : "", (m[1] + (m[2] || "")).replace(/^0+|0+$/g, ""), parseInt(m[3], 10)];
  }

  function pyNumber(v) {  // issue.number: Python's repr of the float, integral as an integer
    var x = num(v);
    if (isNaN(x)) return "nan";
    if (!isFinite(x)) return x > 0 ? "inf" : "-inf";
    if (Number.isInteger(x) && Math.abs(x) < 1e16) return String(x === 0 ? 0 : x);
    var s = shortest(x), d = s[1], e = s[2];
    if (e < -4 || e >= 16) {
      return s[0] + d.charAt(0) + (d.length > 1 ? "." + d.slice(1) : "") + "e" + (e < 0 ? "-" : "+") +
        (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    if (e < 0) return s[0] + "0." + zeros(-e - 1) + d;
    return s[0] + (d + zeros(e + 1)).slice(0, e + 1) + "." + (d.slice(e + 1) || "0");
  }

  function sig(v) {  // issue.sig: three significant digits, half up from the shortest decimal
    var digits = 3, x = num(v);
    if (!isFinite(x)) return pyNumber(x);
    if (x === 0) return "0";
    var s = shortest(x), d = s[1], e = s[2];
    if (d.length > digits) {
      var rounded = String(parseInt(d.slice(0, digits), 10) + (d.charAt(digits) >= "5" ? 1 : 0));
      if (rounded.length > digits) e += 1;
      d = rounded;
    }
    d = d.slice(0, digits).replace(/0+$/, "") || "0";
    if (e >= -3 && e < 6) {
      if (e < 0) return s[0] + "0." + zeros(-e - 1) + d;
      return s[0] + (d + zeros(e + 1)).slice(0, e + 1) + (d.length > e + 1 ? "." + d.slice(e + 1) : "");
    }
    return s[0] + d.charAt(0) + (d.length > 1 ? "." + d.slice(1) : "") + "e" + (e < 0 ? "-" : "+") + Math.abs(e);
  }

  function literal(v, numbers) {  // issue.literal
    if (numbers === undefined) numbers = true;
    if (Array.isArray(v)) return "[" + v.map(function (x) { return literal(x, numbers); }).join(", ") + "]";
    if (v === null || v === undefined) return "None";
    if (typeof v === "boolean") return v ? "True" : "False";
    if (typeof v === "object") {
      return "{" + Object.keys(v).map(function (k) { return JSON.stringify(k) + ": " + literal(v[k], numbers); }).join(", ") + "}";
    }
    if (typeof v === "number" || (numbers && Object.prototype.hasOwnProperty.call(NONFINITE, v))) return pyNumber(v);
    return JSON.stringify(v);
  }

  function count(v) {
    if (!Array.isArray(v)) return 1;
    var n = 0;
    for (var i = 0; i < v.length; i++) n += count(v[i]);
    return n;
  }

  function element(v, index) {
    var idx = index || [];
    for (var i = 0; i < idx.length; i++) {
      if (!Array.isArray(v) || idx[i] < 0 || idx[i] >= v.length) return null;
      v = v[idx[i]];
    }
    return Array.isArray(v) ? null : v;
  }

  function isError(v) { return v !== null && typeof v === "object" && !Array.isArray(v) && "error" in v; }

  function fence(text, language) {
    var runs = (text.match(/`+/g) || []).map(function (r) { return r.length; });
    var ticks = new Array(Math.max(3, Math.max.apply(null, runs.concat([0])) + 1) + 1).join("`");
    return ticks + (language || "") + "\n" + text.replace(/\n+$/, "") + "\n" + ticks;
  }

  function issueValue(v, index) {
    if (isSummary(v)) {
      return "an array of shape (" + v.array.shape.join(", ") + "), too big to write here (the results file " +
        v.array.file + " holds it)";
    }
    if (!Array.isArray(v) || count(v) <= ISSUE_MAX_SHOWN) return "`" + literal(v) + "`";
    var worst = element(v, index);
    return "an array of shape (" + shapeOf(v).join(", ") + ")" +
      (worst !== null ? ", element [" + (index || []).join(", ") + "] `" + literal(worst) + "`" : "");
  }

  var DERIVATIVES = {jvp: "forward-mode derivative (jvp)", hvp: "Hessian-vector product"};

  function issueWhat(f) {
    if (f.check === "value") return "loss";
    return (DERIVATIVES[f.check] || "gradient") + (f.wrt === "target" ? " with respect to the target" : "");
  }

  function issuePaths(f) { return f.paths || []; }

  function issueTitle(f) {
    var api = "`" + f.api + "`", dtype = f.dtype, what = issueWhat(f), outcome = f.outcome, observed = f.observed;
    var paths = issuePaths(f);
    if (f.category === "equivalence" && paths.length === 2 && outcome === "status") {
      var raised = isError(paths[0].observed) ? paths[0] : paths[1];
      var returned = raised === paths[0] ? paths[1] : paths[0];
      return "`" + raised.api + "` raises where `" + returned.api + "` returns a value on the same " + dtype + " case";
    }
    if (f.category === "equivalence" && paths.length === 2) {
      return "`" + paths[0].api + "` and `" + paths[1].api + "` disagree on the same " + dtype + " case";
    }
    if (outcome === "accepts_invalid") return api + " accepts invalid " + dtype + " input without an error";
    if (outcome === "crash") return api + " crashes the process on " + dtype + " inputs";
    if (outcome === "timeout") return api + " does not return on " + dtype + " inputs";
    if (isError(observed)) return api + " raises " + observed.error + " on valid " + dtype + " inputs";
    if (outcome === "nonfinite") {
      return api + " returns a non-finite " + dtype + " " + what + " where the exact " + what + " is finite";
    }
    if (f.error) return api + ": " + dtype + " " + what + " " + sig(f.error.ulp) + " ulp from the exact value";
    return api + ": " + dtype + " " + what + " differs from the exact value (" + outcome + ")";
  }

  function issueEnvironment(f, environment) {
    var where = [environment.python ? "Python " + environment.python : "", environment.platform || "",
                 environment.device || ""].filter(Boolean).join(", ");
    var libraries = Object.keys(environment.libraries || {}).map(function (name) {
      return name + " " + environment.libraries[name];
    }).join(", ");
    var check = f.check + (f.wrt ? " with respect to " + f.wrt : "");
    var options = Object.keys(f.options).map(function (k) { return k + "=" + literal(f.options[k], false); }).join(", ");
    return [
      "- Library: " + f.backend + " " + f.backend_version,
      "- API: `" + f.api + "`, " + f.dtype + ", " + check,
      libraries ? "- Environment: " + where + "; " + libraries : "- Environment: " + where,
      "- Case: `" + (f.case || f.id) + "` (" + f.category + ")" + (options ? "; options: " + options : "")
    ];
  }

  function issueError(f) {
    var e = f.error;
    if (!e) return [];
    var bound = e.bound !== undefined && e.bound !== null ? " of " + sig(e.bound) + " ulp" : "";
    var where = e.index && e.index.length ? ", at element [" + e.index.join(", ") + "]" : "";
    return ["Error: " + sig(e.ulp) + " ulp (" + f.dtype + " ulps at the exact value" + where + "), " +
            sig(e.bound_ratio) + " x the allowed bound" + bound + "."];
  }

  function issueReturned(f) {
    var observed = f.observed, expected = f.expected, index = f.error ? f.error.index : null, lines = [];
    if (f.category === "equivalence" && issuePaths(f).length) {
      lines.push("Two paths that should compute the same loss, on the same inputs:", "");
      issuePaths(f).forEach(function (p) {
        var returned = isError(p.observed) ? "raised `" + p.observed.error + ": " + p.observed.message + "`"
          : "returned " + issueValue(p.observed, index);
        lines.push("- `" + p.api + "` " + returned + "; exact: " + issueValue(p.oracle, index));
      });
      lines.push("");
      return lines.concat(issueError(f));
    }
    if (expected === "invalid") {
      lines.push("The inputs are outside the loss's domain (the oracle rejects them), so an error is due; the library " +
        (!isError(observed) ? "returned " + issueValue(observed, index) + "." : "raised:"));
    } else if (f.outcome === "crash" || f.outcome === "timeout") {
      lines.push("The call " + (f.outcome === "crash" ? "crashed the process:" : "did not return:"));
    } else if (isError(observed)) {
      lines.push("It raised, where the exact " + issueWhat(f) + " is " + issueValue(expected, index) + ":");
    } else {
      lines.push("- returned: " + issueValue(observed, index));
      lines.push("- exact (the float64 oracle, on the inputs as given): " + issueValue(expected, index));
    }
    if (isError(observed)) lines.push("", fence(observed.error + ": " + observed.message));
    var error = issueError(f);
    return error.length ? lines.concat([""], error) : lines;
  }

  function issueMechanism(f, deviations) {
    var entry = f.deviation && Object.prototype.hasOwnProperty.call(deviations, f.deviation) ? deviations[f.deviation] : null;
    if (entry) {
      var lines = ["The xent-conformance deviation registry explains it as **" + entry.kind + "** (entry `" +
                   f.deviation + "`): " + entry.reason];
      if ("actual" in entry) lines.push("", "What the library does instead, as the entry states it: `" + literal(entry.actual) + "`");
      if (entry.link) lines.push("", "See " + entry.link);
      return lines;
    }
    var claims = f.failed_claims || [];
    if (claims.length) {
      return claims.map(function (c) {
        return "Registry entry `" + c.id + "` selected this case, but its claim did not hold: " + c.why;
      });
    }
    return ["Not known: no entry of the xent-conformance deviation registry explains it."];
  }

  // issue.markdown; null for what is nothing to file (a match, a harness error)
  function issueMarkdown(f, env, environment, deviations) {
    if (NOT_AN_ISSUE.indexOf(f.outcome) >= 0) return null;
    var lines = ["# " + issueTitle(f), ""].concat(
      issueEnvironment(f, environment), [""],
      ["## Reproducer", "", fence(f.reproducer, "python"), ""],
      ["## What it returns", ""], issueReturned(f), [""],
      ["## Mechanism", ""], issueMechanism(f, deviations), [""],
      ["Found by xent-conformance: finding `" + f.id + "` of env `" + env + "` (`python -m reports issue " +
       f.id + " --env " + env + "`)."]);
    return lines.join("\n") + "\n";
  }

  // --- copying: the Clipboard API, else a hidden textarea and execCommand (file:// pages in
  // browsers that refuse the Clipboard API there)
  function copyByCommand(text) {
    var ta = el("textarea", { readonly: "", "aria-hidden": "true" });
    ta.value = text;
    ta.style.position = "fixed";
    ta.style.top = "0";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  function copyText(text) {
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return "clipboard"; }, function () {
        if (copyByCommand(text)) return "execCommand";
        throw new Error("copy refused");
      });
    }
    return copyByCommand(text) ? Promise.resolve("execCommand") : Promise.reject(new Error("copy refused"));
  }

  // --- filters, links and sorting -----------------------------------------------------------------
  function fillSelects() {
    var form = $("filters");
    SELECTS.forEach(function (name) {
      var select = form.elements[name];
      if (!select || name === "diff") return;
      var counts = {};
      state.data.findings.forEach(function (r) {
        if (r.outcome === "match") return;
        var v = r[name] === null || r[name] === undefined ? "" : String(r[name]);
        if (v) counts[v] = (counts[v] || 0) + 1;
      });
      Object.keys(counts).sort().forEach(function (v) {
        select.appendChild(el("option", { value: v }, v + " (" + counts[v] + ")"));
      });
    });
  }

  function resetFilters() {
    var form = $("filters");
    SELECTS.forEach(function (name) { if (form.elements[name]) form.elements[name].value = ""; });
    form.elements.lone.checked = false;
    form.elements.matches.checked = false;
    form.elements.q.value = "";
  }

  function setSelect(select, value) {
    var found = false;
    for (var i = 0; i < select.options.length; i++) if (select.options[i].value === value) found = true;
    if (!found) select.appendChild(el("option", { value: value }, value + " (0)"));
    select.value = value;
  }

  function applyParams(params) {
    var form = $("filters");
    resetFilters();
    params.forEach(function (value, key) {
      var field = form.elements[key];
      if (!field) return;
      if (field.type === "checkbox") field.checked = value === "1";
      else if (field.tagName === "SELECT") setSelect(field, value);
      else field.value = value;
    });
    state.open = null;
    refresh(false);
  }

  function openFinding(env, id) {
    var all = state.data.findings, target = null;
    for (var i = 0; i < all.length; i++) if (all[i].env === env && all[i].id === id) { target = all[i]; break; }
    if (!target) { $("findings-status").textContent = "No finding " + id + " in " + env + "."; return; }
    resetFilters();
    var form = $("filters");
    setSelect(form.elements.env, env);
    form.elements.q.value = id;
    if (target.outcome === "match") form.elements.matches.checked = true;
    state.open = target;
    refresh(false);
    var index = state.shown.indexOf(target);
    state.page = Math.floor(index / PAGE);
    render();
    var row = document.querySelector('tr.row.open');
    if (row) row.scrollIntoView({ block: "start" });
  }

  function route() {
    var hash = location.hash.slice(1);
    if (hash.indexOf("registry?") === 0) {  // an entry, found by the registry's search
      var form = $("registry-search");
      form.elements.q.value = new URLSearchParams(hash.slice("registry?".length)).get("q") || "";
      searchRegistry();
      $("registry").scrollIntoView({ block: "start" });
    } else if (hash.indexOf("accuracy=") === 0) {  // an accuracy cell, its detail open
      var cell = accuracyCell(hash.slice("accuracy=".length));
      if (cell) {
        showAccuracy(cell).then(function () { cell.scrollIntoView({ block: "center", inline: "center" }); });
      }
    } else if (hash.indexOf("overview?") === 0) {
      showCell(new URLSearchParams(hash.slice("overview?".length)));
    } else if (hash.indexOf("findings?") === 0) {
      applyParams(new URLSearchParams(hash.slice("findings?".length)));
      $("findings").scrollIntoView({ block: "start" });
    } else if (hash.indexOf("finding=") === 0 || hash.indexOf("issue=") === 0) {
      var issue = hash.indexOf("issue=") === 0;  // the finding, its upstream issue text open
      var rest = hash.slice(hash.indexOf("=") + 1), slash = rest.indexOf("/");
      openFinding(decodeURIComponent(rest.slice(0, slash)), decodeURIComponent(rest.slice(slash + 1)));
      var text = issue ? document.querySelector("tr.details .upstream-issue details") : null;
      if (text) {
        text.open = true;
        text.parentNode.scrollIntoView({ block: "start" });
      }
    }
  }

  function wire() {
    var form = $("filters");
    form.addEventListener("change", function () { state.open = null; refresh(false); });
    form.elements.q.addEventListener("input", function () { state.open = null; refresh(false); });
    $("reset-filters").addEventListener("click", function () { resetFilters(); state.open = null; refresh(false); });
    Array.prototype.forEach.call(document.querySelectorAll("th[data-sort]"), function (th) {
      th.addEventListener("click", function () {
        var key = th.getAttribute("data-sort");
        state.sortDir = state.sortKey === key ? -state.sortDir : (key === "ulp" || key === "ratio" ? -1 : 1);
        state.sortKey = key;
        Array.prototype.forEach.call(document.querySelectorAll("th[data-sort]"), function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", state.sortDir > 0 ? "ascending" : "descending");
        refresh(true);
      });
    });
    // in-page links route even when the hash does not change (a second click on one cell)
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest ? ev.target.closest("a[href^='#finding'], a[href^='#registry?'], a[href^='#overview?'], a[href^='#issue='], a[href^='#accuracy=']") : null;
      var href = a ? a.getAttribute("href") : "";
      if (!/^#(findings\?|finding=|registry\?|overview\?|issue=|accuracy=)/.test(href)) return;
      ev.preventDefault();
      history.pushState(null, "", href);
      route();
    });
    window.addEventListener("popstate", route);
    window.addEventListener("hashchange", route);
  }

  // --- the overview: a column per library, or per backend and compiled mode; a cell's breakdown --
  function splitColumns() {
    var form = $("overview-toggles");
    if (form) $("overview-table").classList.toggle("split", form.elements.split.checked);
  }

  // The findings list's filters that select an overview cell's records: every record of the
  // cell (findings and harness errors) and nothing else.
  function cellFilters(params) {
    var f = { library: params.get("library"), row: params.get("row"), category: params.get("category") };
    var unit = params.get("unit");
    if (unit) {
      var parts = unit.split("|");
      f.backend = parts[0]; f.env = parts[1]; f.mode = parts[2];
    }
    return f;
  }

  function findingsLink(filters) {
    var q = new URLSearchParams();
    Object.keys(filters).forEach(function (k) { if (filters[k]) q.set(k, filters[k]); });
    return "#findings?" + q.toString();
  }

  // A cell's APIs (with their env and mode where the column has several) by dtype: findings /
  // cases judged, each linking to its findings; the rows come from reports/overview.py.
  function showCell(params) {
    var ov = state.data.overview, panel = $("overview-detail");
    var row = params.get("row"), category = params.get("category"), library = params.get("library");
    var unitWanted = params.get("unit");
    var byUnit = ((ov.breakdown[row] || {})[category]) || {};
    var units = Object.keys(byUnit).filter(function (key) {
      return ov.units[key] && ov.units[key][0] === library && (!unitWanted || key === unitWanted);
    }).sort();
    var dtypes = [];
    units.forEach(function (key) {
      byUnit[key].forEach(function (b) { if (dtypes.indexOf(b[1]) < 0) dtypes.push(b[1]); });
    });
    dtypes.sort(function (a, b) { return DTYPES.indexOf(a) - DTYPES.indexOf(b); });
    var filters = cellFilters(params);
    var listed = 0;
    state.data.findings.forEach(function (r) { if (r.outcome !== "match" && cellMatches(r, filters)) listed++; });
    panel.textContent = "";
    panel.appendChild(el("h3", null, library + (unitWanted && ov.units[unitWanted] ? " (" + ov.units[unitWanted][1] + ")" : "") +
      " \u00b7 " + row + " \u00b7 " + category));
    var p = el("p");
    var all = el("a", { href: findingsLink(filters), "class": "cell-findings" }, "list its " + listed + " record" + (listed === 1 ? "" : "s"));
    p.appendChild(document.createTextNode("Findings / cases judged per API and dtype; a number opens those findings. "));
    p.appendChild(all);
    p.appendChild(document.createTextNode(" (findings and harness errors)."));
    panel.appendChild(p);
    var table = el("table", { "class": "list breakdown" });
    var head = el("tr");
    head.appendChild(el("th", null, "API"));
    dtypes.forEach(function (d) { head.appendChild(el("th", { "class": "num" }, d)); });
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    units.forEach(function (key) {
      var parts = key.split("|"), apis = {};
      byUnit[key].forEach(function (b) { (apis[b[0]] = apis[b[0]] || {})[b[1]] = b; });
      Object.keys(apis).sort().forEach(function (api) {
        var tr = el("tr");
        var th = el("th");
        th.appendChild(el("code", null, api));
        th.appendChild(el("span", { "class": "backend" }, " " + parts[1]));
        tr.appendChild(th);
        dtypes.forEach(function (d) {
          var b = apis[api][d], td = el("td", { "class": "num" });
          if (b) {
            // [api, dtype, judged, findings, unexplained, harness errors, worst outcome]
            td.className = "num " + (b[6] ? "o-" + b[6] : "s-unsupported");
            var text = b[3] + "/" + b[2] + (b[4] ? " !" + b[4] : "") + (b[5] ? " \u26a0" + b[5] : "");
            if (b[3] || b[5]) {
              td.appendChild(el("a", { href: findingsLink({ env: parts[1], api: api, category: category, dtype: d }) }, text));
            } else {
              td.textContent = text;
            }
          }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    });
    table.appendChild(body);
    panel.appendChild(table);
    panel.hidden = false;
    panel.scrollIntoView({ block: "nearest" });
  }

  function cellMatches(r, f) {
    for (var k in f) if (Object.prototype.hasOwnProperty.call(f, k) && f[k] && String(r[k]) !== f[k]) return false;
    return true;
  }

  // --- the registry: collapsed by library; the search shows the matching entries and opens
  // the libraries that hold one, and an empty search closes them all again -----------------------
  function searchRegistry() {
    var form = $("registry-search");
    var q = form.elements.q.value.trim().toLowerCase(), shown = 0, total = 0;
    Array.prototype.forEach.call(document.querySelectorAll("details.registry-library"), function (lib) {
      var found = 0;
      Array.prototype.forEach.call(lib.querySelectorAll("tr.registry-entry"), function (row) {
        var hit = !q || row.textContent.toLowerCase().indexOf(q) >= 0 ||
          lib.getAttribute("data-library").toLowerCase().indexOf(q) >= 0;
        row.hidden = !hit;
        total++;
        if (hit) found++;
      });
      shown += found;
      lib.hidden = q !== "" && found === 0;
      lib.open = q !== "" && found > 0;
    });
    $("registry-status").textContent = q ? shown + " of " + total + " entries match" : total + " entries";
  }

  var registrySearch = $("registry-search");
  if (registrySearch) {
    registrySearch.elements.q.addEventListener("input", searchRegistry);
    searchRegistry();
  }

  // --- the accuracy section: a cell's record in full (reports/accuracy.py), unpacked on the
  // first click: the worst element, the element returned as 0 or with the wrong sign, the
  // reproducer ------------------------------------------------------------------------------------
  var accuracyData = null;
  function accuracyRecords() {
    var node = $("accuracy-data");
    if (!node || !node.textContent.trim()) return Promise.resolve([]);
    if (!accuracyData) accuracyData = unpack(node).then(function (d) { return d.records; });
    return accuracyData;
  }

  function exampleOf(x) {
    if (!x) return el("p", null, "-");
    return dl([["input", arrayText(x.input, 64)], ["target", arrayText(x.target, 64)],
               ["exact", arrayText(x.expected, 64)], ["returned", arrayText(x.observed, 64)],
               ["error (ulp)", fmt(x.ulp)], ["element", x.index === undefined ? undefined : x.index]]);
  }

  function accuracyDetail(r) {
    var grid = el("div", { "class": "detail-grid", "data-accuracy": r.api + "|" + r.dtype + "|" + r.check + "|" + r.target });
    var measured = r.outcome === "measured";
    var worst = !measured ? "not measured" : (r.method === "exhaustive" ? fmt(r.worst_ulp) + " (the exact maximum over every input)"
      : "\u2265 " + fmt(r.worst_ulp) + (r.method === "sampled" ? " (a lower bound: the worst of a fixed sample of the inputs)"
        : " (a lower bound: found by a search)"));
    grid.appendChild(block("Measurement", dl([
      ["API", r.api], ["backend", r.backend + " (env " + r.env + (r.mode && r.mode !== "eager" ? ", " + r.mode : "") + ")"],
      ["loss", r.loss], ["dtype", r.dtype], ["check", r.check], ["target", r.target], ["method", r.method],
      ["outcome", r.outcome], ["why", measured ? undefined : (r.reason || "no reason recorded")],
      ["inputs", r.inputs + " (" + r.domain + ")"],
      ["seed", r.seed === null || r.seed === undefined ? undefined : r.seed],
      ["evaluations", r.evaluations === null || r.evaluations === undefined ? undefined : r.evaluations],
      ["worst error (ulp)", worst],
      ["returned 0", measured ? (r.zero_count || 0) + " elements whose exact result is not 0" : undefined],
      ["wrong sign", measured ? (r.sign_count || 0) + " elements" : undefined],
      ["not finite", measured ? (r.nonfinite_count || 0) + " elements where the exact result is finite (or the reverse)" : undefined]
    ])));
    if (measured) grid.appendChild(block("Worst element", exampleOf(r.worst)));
    if (r.zero) grid.appendChild(block("Returned 0 (the largest exact value of " + r.zero_count + ")", exampleOf(r.zero)));
    if (r.sign) grid.appendChild(block("Wrong sign (of " + r.sign_count + ")", exampleOf(r.sign)));
    if (r.nonfinite) grid.appendChild(block("Not finite (of " + r.nonfinite_count + ")", exampleOf(r.nonfinite)));
    if (r.reproducer) {
      grid.appendChild(copyBlock("reproducer", "Reproducer (the worst element alone)", "Copy reproducer", r.reproducer));
    }
    return grid;
  }

  function showAccuracy(cell) {
    var index = parseInt(cell.getAttribute("data-acc"), 10);
    var panel = cell.closest(".acc-loss").querySelector(".acc-detail");
    return accuracyRecords().then(function (records) {
      var r = records[index];
      if (!r) return;
      Array.prototype.forEach.call(document.querySelectorAll("td.acc.open"), function (c) { c.classList.remove("open"); });
      cell.classList.add("open");
      var body = cell.closest("details");
      if (body) body.open = true;
      panel.textContent = "";
      panel.appendChild(el("h4", null, r.api + " \u00b7 " + r.env + " \u00b7 " + r.dtype + " \u00b7 " + r.check +
        " \u00b7 target " + r.target + " \u00b7 " + r.method));
      panel.appendChild(accuracyDetail(r));
      panel.hidden = false;
      panel.scrollIntoView({ block: "nearest" });
    }, function (err) {
      panel.textContent = "Could not read the accuracy records: " + err.message;
      panel.hidden = false;
    });
  }

  function accuracyCell(index) {
    return document.querySelector('td.acc[data-acc="' + String(parseInt(index, 10)) + '"]');
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.accuracy"), function (table) {
    table.addEventListener("click", function (ev) {
      var cell = ev.target.closest ? ev.target.closest("td.acc[data-acc]") : null;
      if (!cell) return;
      history.replaceState(null, "", "#accuracy=" + cell.getAttribute("data-acc"));
      showAccuracy(cell);
    });
    table.addEventListener("keydown", function (ev) {
      var cell = ev.target.closest ? ev.target.closest("td.acc[data-acc]") : null;
      if (cell && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); showAccuracy(cell); }
    });
  });

  var toggles = $("overview-toggles");
  if (toggles) {
    toggles.addEventListener("change", splitColumns);
    splitColumns();
  }

  var ready = load().then(function (data) {
    state.data = data;
    fillSelects();
    wire();
    refresh(false);
    route();
    document.body.setAttribute("data-ready", "1");
  }, function (err) {
    $("findings-status").textContent = "Could not read the findings: " + err.message;
    $("findings-status").className = "status bad";
    document.body.setAttribute("data-ready", "error");
    throw err;
  });
  window.xentReport = { ready: ready, state: state, copyText: copyText, searchRegistry: searchRegistry,
                       issueMarkdown: issueMarkdown, sig: sig, pyNumber: pyNumber, showCell: showCell,
                       applyParams: applyParams, showAccuracy: showAccuracy };
})();
