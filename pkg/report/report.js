(function () {
  "use strict";
  // Everything here is an extra: without script the report shows every pod in deletion order,
  // and the verdict filter works with CSS alone.
  var doc = document;
  doc.documentElement.classList.add("js");
  var list = doc.querySelector(".pods");
  if (!list) return;
  // Rows are reached by walking children: descendant selectors run once per pod cost far
  // more than the walk in a report of thousands of pods.
  var pods = Array.prototype.filter.call(list.children, function (el) { return el.tagName === "DETAILS"; });
  var q = doc.getElementById("q"), sort = doc.getElementById("sort"), shown = doc.getElementById("shown");
  var rank = { graceful: 0, incomplete: 1, "at-risk": 2, failed: 3, killed: 4 };
  // Shutdown and grace used are read back from the row label ("31.7s · 106%", "2m5s · 80%").
  function seconds(t) {
    var m = /^(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?$/.exec(t || "");
    return m && t ? (+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0) : NaN;
  }
  var rows = pods.map(function (el, i) {
    var m = /(?:^|\s)v-(\S+)/.exec(el.className);
    var v = m ? m[1] : "";
    var lbl = el.firstElementChild.firstElementChild; // summary > .lbl
    var n = lbl.lastElementChild;
    var parts = n && n.className === "n" ? n.textContent.split(" · ") : [];
    return {
      el: el, i: i, name: lbl.firstElementChild.textContent, verdict: v,
      rank: v in rank ? rank[v] : 5,
      s: seconds(parts[0]),
      g: parts[1] ? parseFloat(parts[1]) : NaN,
      text: null
    };
  });

  function checkedVerdict() {
    var r = doc.querySelector("input.vf:checked");
    return r && r.id !== "vf-all" ? r.id.slice(3) : "";
  }

  function filter() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var v = checkedVerdict(), n = 0;
    rows.forEach(function (r) {
      // Everything the pod shows is searchable: node, owner, finding IDs, event messages.
      if (terms.length && r.text === null) r.text = r.el.textContent.toLowerCase();
      var hit = terms.every(function (t) { return r.text.indexOf(t) >= 0; });
      if (r.el.hidden === hit) r.el.hidden = !hit;
      if (hit && (!v || r.verdict === v)) n++;
    });
    shown.textContent = n + " of " + rows.length + " shown";
  }

  // Missing numbers (pods still terminating) sort last.
  function desc(a, b) {
    var x = isNaN(a) ? -Infinity : a, y = isNaN(b) ? -Infinity : b;
    return y - x;
  }
  var orders = {
    start: function (a, b) { return a.i - b.i; },
    name: function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i; },
    verdict: function (a, b) { return b.rank - a.rank || a.i - b.i; },
    shutdown: function (a, b) { return desc(a.s, b.s) || a.i - b.i; },
    grace: function (a, b) { return desc(a.g, b.g) || a.i - b.i; }
  };
  function reorder() {
    var frag = doc.createDocumentFragment();
    rows.slice().sort(orders[sort.value] || orders.start).forEach(function (r) { frag.appendChild(r.el); });
    list.appendChild(frag);
  }

  q.addEventListener("input", filter);
  sort.addEventListener("change", reorder);
  Array.prototype.forEach.call(doc.querySelectorAll("input.vf"), function (r) {
    r.addEventListener("change", filter);
  });

  // "Show only these" under a fix filters the pods by finding ID.
  Array.prototype.forEach.call(doc.querySelectorAll("button.show"), function (b) {
    b.addEventListener("click", function () {
      doc.getElementById("vf-all").checked = true;
      q.value = b.getAttribute("data-filter");
      filter();
      doc.getElementById("pods").scrollIntoView();
    });
  });

  Array.prototype.forEach.call(doc.querySelectorAll("button.copy"), function (b) {
    b.addEventListener("click", function () {
      var pre = doc.getElementById(b.getAttribute("data-copy"));
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
      var fallback = function () {
        var range = doc.createRange();
        range.selectNodeContents(pre);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        b.textContent = "Press Ctrl+C";
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(pre.textContent).then(done, fallback);
      } else {
        fallback();
      }
    });
  });

  // A link to a pod opens its details, even when a filter hid it.
  function openTarget() {
    var id;
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      return; // not one of the report's anchors
    }
    var el = id && doc.getElementById(id);
    if (el && el.classList.contains("pod")) {
      if (el.hidden || (checkedVerdict() && !el.classList.contains("v-" + checkedVerdict()))) {
        q.value = "";
        doc.getElementById("vf-all").checked = true;
        filter();
      }
      el.open = true;
      el.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", openTarget);

  // Printing shows the details of every pod that is shown.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = pods.filter(function (el) { return !el.open; });
    opened.forEach(function (el) { el.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (el) { el.open = false; });
    opened = [];
  });

  filter();
  openTarget();
})();
