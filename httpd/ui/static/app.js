// Niceties only: everything works without this script.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b || !navigator.clipboard) return;
  e.preventDefault();
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
    var t = b.textContent;
    b.textContent = "Copied";
    setTimeout(function () { b.textContent = t; }, 1500);
  });
});
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
});
document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = !navigator.clipboard; });
// Profile editor: drag rows to reorder (the ↑ ↓ buttons work without
// this), and a live theme preview.
(function () {
  var list = document.getElementById("plinks");
  if (list) {
    var dragged = null;
    var renumber = function () {
      list.querySelectorAll(".plink").forEach(function (li, i) { li.querySelector(".order").value = i; });
    };
    list.addEventListener("dragstart", function (e) {
      dragged = e.target.closest(".plink");
      if (!dragged) return;
      dragged.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragged.dataset.row);
    });
    list.addEventListener("dragover", function (e) {
      var over = e.target.closest(".plink");
      if (!dragged || !over || over === dragged) return;
      e.preventDefault();
      var r = over.getBoundingClientRect();
      list.insertBefore(dragged, e.clientY < r.top + r.height / 2 ? over : over.nextSibling);
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      renumber();
    });
    list.addEventListener("drop", function (e) { e.preventDefault(); renumber(); });
  }
  var preview = document.getElementById("preview");
  var form = document.getElementById("profile-form");
  if (!preview || !form) return;
  var update = function () {
    var picked = form.querySelector("input[name=theme]:checked");
    var css = picked ? picked.getAttribute("data-vars") : "";
    preview.style.cssText = css;
    form.querySelectorAll("input.color").forEach(function (c) {
      if (/^#[0-9a-fA-F]{6}$/.test(c.value)) preview.style.setProperty(c.getAttribute("data-var"), c.value);
    });
    var name = form.querySelector("[name=displayName]");
    if (name) preview.querySelector(".pv-name").textContent = name.value || "@" + form.querySelector("[name=handle]").value;
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
