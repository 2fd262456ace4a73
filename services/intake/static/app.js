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

  // Similar public reports nearby: their script loads once a category is chosen.
  var near = document.getElementById("nearby");
  var cat = document.getElementById("f-category");
  if (near && cat) {
    cat.addEventListener("change", function () {
      if (near.getAttribute("data-loaded")) { return; }
      near.setAttribute("data-loaded", "1");
      var js = document.createElement("script");
      js.src = near.getAttribute("data-script");
      document.head.appendChild(js);
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
