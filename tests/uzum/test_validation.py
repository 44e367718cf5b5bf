"""The one connect validation (uzum/validation.py) that the form and both connect services use."""

import pytest
from django.core.exceptions import ValidationError

from navbat.uzum import validation


def test_a_terminal_id_is_a_uuid():
    upper = "3FA85F64-5717-4562-B3FC-2C963F66AFA6"
    assert validation.terminal_id(f" {upper} ") == upper.lower()
    assert validation.terminal_id("  ") == ""
    with pytest.raises(ValidationError) as caught:
        validation.terminal_id("12345")
    assert caught.value.message_dict == {
        "terminal_id": ["A terminal id looks like 8-4-4-4-12 hex digits."]
    }


def test_a_checkout_url_is_a_web_address_without_the_last_slash():
    assert validation.checkout_url(" https://bank.uz/ ") == "https://bank.uz"
    assert validation.checkout_url("") == ""
    with pytest.raises(ValidationError) as caught:
        validation.checkout_url("ftp://bank")
    assert list(caught.value.message_dict) == ["checkout_base_url"]


@pytest.mark.parametrize("name", ["amount", "serviceId", "REDIRECTURL", "1order", "o" * 33, "a&b"])
def test_a_payment_attribute_may_not_break_the_link(name):
    with pytest.raises(ValidationError) as caught:
        validation.payment_attribute(name)
    assert list(caught.value.message_dict) == ["payment_attribute"]


def test_an_empty_payment_attribute_is_order():
    assert validation.payment_attribute("  ") == "order"
    assert validation.payment_attribute("pay_code") == "pay_code"


def test_every_mistake_in_the_options_is_told_in_order():
    errors = validation.option_errors(
        card_payments=False, app_payments=False, auto_fiscal=True, tin="12x", pinfl="1"
    )
    assert [(getattr(e, "message_dict", None), e.messages) for e in errors] == [
        (None, ["Offer at least one payment method."]),
        (None, ["Fiscal receipts need exactly one of the TIN or the PINFL."]),
        ({"tin": ["A TIN is 9 digits."]}, ["A TIN is 9 digits."]),
        ({"pinfl": ["A PINFL is 14 digits."]}, ["A PINFL is 14 digits."]),
    ]
    assert (
        validation.option_errors(
            card_payments=True, app_payments=False, auto_fiscal=True, tin="123456789", pinfl=""
        )
        == []
    )
    with pytest.raises(ValidationError) as caught:
        validation.check_options(
            card_payments=True, app_payments=False, auto_fiscal=True, tin="", pinfl=""
        )
    assert caught.value.messages == ["Fiscal receipts need exactly one of the TIN or the PINFL."]


def test_the_provider_and_the_merchant_api_do_not_import_each_other():
    """The cycle provider ↔ merchant.services is broken: both import uzum/translate.py."""
    import ast
    from pathlib import Path

    import navbat.uzum

    root = Path(navbat.uzum.__file__).parent

    def imports(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names.add(("." * node.level) + (node.module or ""))
        return names

    assert not {".merchant.services", "navbat.uzum.merchant.services"} & imports(
        root / "provider.py"
    )
    assert not {"..provider", "navbat.uzum.provider"} & imports(root / "merchant" / "services.py")
