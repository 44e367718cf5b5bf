// The sandbox Uzum Bank app's payment screen: installment plans show for "installments"
// only, and the pay button cannot be pressed twice.
(function () {
  "use strict";
  var plans = document.getElementById("plans");
  function sync() {
    var chosen = document.querySelector("input[name=source]:checked");
    if (plans) {
      plans.classList.toggle("open", !!chosen && chosen.value === "INSTALLMENT");
    }
  }
  document.querySelectorAll("input[name=source]").forEach(function (input) {
    input.addEventListener("change", sync);
  });
  sync();
  var form = document.getElementById("pay-form");
  if (form) {
    form.addEventListener("submit", function () {
      document.getElementById("pay-button").disabled = true;
    });
  }
})();
