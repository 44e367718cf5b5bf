// The sandbox's hosted card page: a test card's button fills the form with it.
(function () {
  "use strict";
  document.querySelectorAll("button.fill").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById("card_number").value = button.dataset.number.replace(
        /(\d{4})(?=\d)/g,
        "$1 "
      );
      document.getElementById("expiry").value = "12/30";
      document.getElementById("cvv").value = "123";
    });
  });
})();
