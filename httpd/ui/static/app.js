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
// Profile editor: add rows, reorder them (drag, or ↑ ↓ without a round
// trip) and keep the live preview (the real page, rendered by the server
// from the unsaved form into the "preview" iframe) up to date. Without
// this script "+ Add link", ↑ ↓ and "Update preview" submit the form.
(function () {
  var form = document.getElementById("profile-form");
  var list = document.getElementById("plinks");
  if (!form || !list) return;
  var refresh = document.getElementById("refresh-preview");
  var timer = null, saving = false;
  var preview = function () {
    clearTimeout(timer);
    if (saving) return;
    timer = setTimeout(function () {
      // Files are uploaded on save only; leave them out of the preview.
      var files = form.querySelectorAll("input[type=file]:not(:disabled)");
      files.forEach(function (f) { f.disabled = true; });
      form.requestSubmit(refresh);
      files.forEach(function (f) { f.disabled = false; });
    }, 250);
  };
  var renumber = function () {
    list.querySelectorAll(".plink").forEach(function (li, i) { li.querySelector(".order").value = i; });
    preview();
  };
  var wire = function (li) {
    li.querySelectorAll(".move button").forEach(function (b) { b.type = "button"; });
  };
  list.querySelectorAll(".plink").forEach(wire);
  list.addEventListener("click", function (e) {
    var b = e.target.closest(".move button");
    if (!b) return;
    var li = b.closest(".plink");
    if (/:up$/.test(b.value)) {
      if (li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
    } else if (li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
    }
    b.focus();
    renumber();
  });
  var tpl = document.getElementById("plink-new");
  var add = document.getElementById("add-link");
  if (tpl && add) {
    add.type = "button";
    add.addEventListener("click", function () {
      var next = 0;
      list.querySelectorAll(".plink").forEach(function (li) { next = Math.max(next, +li.dataset.row + 1); });
      var box = document.createElement("div");
      box.innerHTML = tpl.innerHTML.replace(/__n__/g, String(next));
      var li = box.firstElementChild;
      wire(li);
      list.appendChild(li);
      li.querySelector("input[name$=_title]").focus();
      renumber();
    });
  }
  var dragged = null;
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
  list.addEventListener("drop", function (e) { e.preventDefault(); });
  // A submission of the same form cancels one not yet under way: once
  // Save (or Enter) submits, no preview may follow it.
  form.addEventListener("submit", function (e) {
    if (e.submitter === refresh) return;
    saving = true;
    clearTimeout(timer);
  });
  if (refresh) {
    form.addEventListener("input", preview);
    form.addEventListener("change", preview);
    preview(); // the page as the form stands (after a failed save, not the saved one)
  }
})();
