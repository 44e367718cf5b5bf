// The appointment form: "Add a service or product" adds a row from the formset's template.
(function () {
  "use strict";
  var add = document.getElementById("add-line");
  if (!add) {
    return;
  }
  add.addEventListener("click", function () {
    var total = document.getElementById("id_lines-TOTAL_FORMS");
    var index = parseInt(total.value, 10);
    var html = document.getElementById("line-template").innerHTML.replace(/__prefix__/g, index);
    document.querySelector("#lines tbody").insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
  });
})();
