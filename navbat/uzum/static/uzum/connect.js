// The Uzum Bank connect form: the Checkout host follows the chosen environment, the sandbox
// offer shows for the sandbox only, and the fiscal and installment fields follow their boxes.
(function () {
  "use strict";
  var data = document.getElementById("checkout-hosts");
  var environment = document.getElementById("id_environment");
  var host = document.getElementById("id_checkout_base_url");
  if (!data || !environment || !host) {
    return;
  }
  var hosts = JSON.parse(data.textContent);
  var offer = document.getElementById("sandbox-offer");
  var previous = environment.value;
  // A host still at the previous environment's default follows the new environment; a
  // host the administrator typed stays.
  environment.addEventListener("change", function () {
    if (!host.value || host.value === hosts[previous]) {
      host.value = hosts[environment.value] || "";
    }
    previous = environment.value;
    if (offer) {
      offer.hidden = environment.value !== "sandbox";
    }
  });
  var fiscal = document.getElementById("id_auto_fiscal");
  var taxpayer = document.getElementById("fiscal-taxpayer");
  var app = document.getElementById("id_app_payments");
  var installments = document.getElementById("id_installments");
  function sync() {
    taxpayer.hidden = !fiscal.checked;
    installments.disabled = !app.checked;
    if (!app.checked) {
      installments.checked = false;
    }
  }
  fiscal.addEventListener("change", sync);
  app.addEventListener("change", sync);
  sync();
})();
