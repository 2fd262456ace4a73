// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Desa list follows the chosen kecamatan; choosing a desa first picks its kecamatan.
  var kec = document.getElementById("f-kecamatan");
  var desa = document.getElementById("f-desa");
  if (kec && desa) {
    var groups = Array.prototype.slice.call(desa.querySelectorAll("optgroup"));
    var show = function () {
      var chosen = desa.value;
      groups.forEach(function (g) { if (g.parentNode) { desa.removeChild(g); } });
      groups.forEach(function (g) {
        if (!kec.value || g.getAttribute("data-kec") === kec.value) { desa.appendChild(g); }
      });
      desa.value = chosen;
      if (desa.value !== chosen) { desa.value = ""; }
    };
    kec.addEventListener("change", show);
    desa.addEventListener("change", function () {
      var code = desa.value.split("|")[0];
      if (desa.value && kec.value !== code) { kec.value = code; show(); }
    });
    show();
  }

  // "Use my location" fills latitude and longitude.
  var geo = document.getElementById("geo");
  var lat = document.getElementById("f-lat");
  var lon = document.getElementById("f-lon");
  var status = document.getElementById("geo-status");
  if (geo && lat && lon && status && navigator.geolocation) {
    geo.hidden = false;
    geo.addEventListener("click", function () {
      status.textContent = geo.getAttribute("data-wait");
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lon.value = pos.coords.longitude.toFixed(6);
        status.textContent = geo.getAttribute("data-done");
      }, function () {
        status.textContent = geo.getAttribute("data-fail");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // Reports like the one being typed, nearby: the citizen may support one instead.
  var nearby = document.getElementById("nearby");
  var list = document.getElementById("nearby-list");
  var text = document.getElementById("f-description");
  var category = document.getElementById("f-category");
  if (nearby && list && text && category && window.fetch) {
    var timer = null;
    var contact = function () {
      var email = document.getElementById("f-email");
      var phone = document.getElementById("f-phone");
      var body = {};
      if (email && email.value) { body.email = email.value; }
      else if (phone && phone.value) { body.phone = phone.value; }
      body.lang = document.documentElement.lang === "en" ? "en" : "id";
      return body;
    };
    var render = function (items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      nearby.hidden = items.length === 0;
      items.forEach(function (item) {
        var li = document.createElement("li");
        var code = document.createElement("strong");
        code.textContent = item.tracking_code;
        var said = document.createElement("p");
        said.textContent = item.public_text || "";
        var count = document.createElement("p");
        count.className = "muted";
        count.textContent = nearby.getAttribute("data-count").replace("{n}", item.supporters);
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = nearby.getAttribute("data-support");
        button.addEventListener("click", function () {
          button.disabled = true;
          fetch("/api/v1/complaints/" + encodeURIComponent(item.tracking_code) + "/support", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(contact())
          }).then(function (r) { return r.ok ? r.json() : Promise.reject(r); }).then(function (d) {
            count.textContent = nearby.getAttribute("data-count").replace("{n}", d.supporters);
            button.textContent = nearby.getAttribute("data-supported");
          }, function () {
            button.disabled = false;
            button.textContent = nearby.getAttribute("data-failed");
          });
        });
        li.appendChild(code);
        li.appendChild(said);
        li.appendChild(count);
        li.appendChild(button);
        list.appendChild(li);
      });
    };
    var look = function () {
      var place = desa && desa.value ? desa.value.split("|") : [kec ? kec.value : "", ""];
      if (!category.value || !(place[0] || (lat && lat.value)) || text.value.length < 10) {
        render([]);
        return;
      }
      var q = new URLSearchParams({ category: category.value, text: text.value.slice(0, 500) });
      if (place[0]) { q.set("kecamatan", place[0]); }
      if (place[1]) { q.set("desa", place[1]); }
      if (lat && lon && lat.value && lon.value) { q.set("lat", lat.value); q.set("lon", lon.value); }
      fetch("/api/v1/complaints/nearby?" + q.toString()).then(function (r) {
        return r.ok ? r.json() : { items: [] };
      }).then(function (d) { render(d.items || []); }, function () { render([]); });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(look, 600); };
    [text, category, kec, desa, lat, lon].forEach(function (el) {
      if (el) { el.addEventListener("input", later); el.addEventListener("change", later); }
    });
  }

  // The private link carries the reply token in the fragment (#t=...), which never reaches
  // the server: post it with the tracking page's form and drop it from the address bar.
  var tokenForm = document.getElementById("token-form");
  var match = /(?:^#|&)t=([^&]+)/.exec(window.location.hash);
  if (match && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (match && tokenForm) {
    tokenForm.elements.token.value = decodeURIComponent(match[1]);
    tokenForm.submit();
    return;
  }

  // Move focus to the error summary or the success message so it is read out first.
  var first = document.getElementById("ringkasan") || document.getElementById("selesai");
  if (first) {
    if (!first.hasAttribute("tabindex")) { first.setAttribute("tabindex", "-1"); }
    first.focus();
  }
})();
