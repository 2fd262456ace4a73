// "Dukung laporan ini" on the form: public, verified, open reports of the chosen category near
// the place being typed (GET /api/v1/complaints/nearby), each with a button to support it.
// Loaded by app.js once a category is chosen; the form works without it.
(function () {
  "use strict";
  // Similar public reports nearby: the citizen may support one instead of filing anew.
  var kec = document.getElementById("f-kecamatan"), desa = document.getElementById("f-desa");
  var near = document.getElementById("nearby"), list = document.getElementById("nearby-list");
  var text = document.getElementById("f-description"), cat = document.getElementById("f-category");
  if (near && list && text && cat && window.fetch) {
    var at = function (k) { return near.getAttribute("data-" + k); };
    var el = function (tag, txt) { var e = document.createElement(tag); e.textContent = txt; return e; };
    var val = function (id) { var e = document.getElementById(id); return e ? e.value : ""; };
    var show = function (items) {
      list.textContent = "";
      near.hidden = !items.length;
      items.forEach(function (it) {
        var li = el("li", ""), n = el("p", at("count").replace("{n}", it.supporters));
        var b = el("button", at("support"));
        b.type = "button";
        b.onclick = function () {
          var body = { lang: document.documentElement.lang === "en" ? "en" : "id" };
          if (val("f-email")) { body.email = val("f-email"); } else if (val("f-phone")) { body.phone = val("f-phone"); }
          b.disabled = true;
          fetch("/api/v1/complaints/" + it.tracking_code + "/support", { method: "POST",
            headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
            .then(function (r) { return r.ok ? r.json() : Promise.reject(r); })
            .then(function (d) { n.textContent = at("count").replace("{n}", d.supporters); b.textContent = at("supported"); },
              function () { b.disabled = false; b.textContent = at("failed"); });
        };
        [el("strong", it.tracking_code), el("p", it.public_text || ""), n, b].forEach(function (c) { li.appendChild(c); });
        list.appendChild(li);
      });
    };
    var look = function () {
      var place = (desa && desa.value ? desa.value : (kec ? kec.value : "") + "|").split("|");
      if (!cat.value || !(place[0] || val("f-lat")) || text.value.length < 10) { show([]); return; }
      var q = new URLSearchParams({ category: cat.value, text: text.value.slice(0, 500) });
      [["kecamatan", place[0]], ["desa", place[1]], ["lat", val("f-lat")], ["lon", val("f-lon")]]
        .forEach(function (p) { if (p[1]) { q.set(p[0], p[1]); } });
      fetch("/api/v1/complaints/nearby?" + q).then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (d) { show(d.items || []); }, function () { show([]); });
    };
    var timer;
    [text, cat, kec, desa].forEach(function (e) {
      if (e) { e.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(look, 600); }); }
    });
    text.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(look, 600); });
    look();
  }
})();
