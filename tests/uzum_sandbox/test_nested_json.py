"""JSON nested deeper than anyone needs is refused in the bank's own shape, never a 500."""

import pytest

DEEP = "[" * 50_000 + "]" * 50_000
DEEP_OBJECT = '{"amount": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}"


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT])
def test_the_control_api_answers_400(control, raw):
    for path in ("terminals", "services"):
        response = control.post(path, raw=raw)
        assert response.status_code == 400
        assert response.json() == {"error": "The body must be JSON"}


@pytest.mark.parametrize("raw", [DEEP, DEEP_OBJECT])
def test_the_checkout_api_answers_2000_as_uzum_does(checkout_api, raw):
    """Uzum answers every request rule with HTTP 200 and errorCode 2000 (uzum-bank.md §1)."""
    response = checkout_api.post("payment/register", raw, raw=True)
    assert response.status_code == 200
    assert response.json() == {
        "errorCode": 2000,
        "message": "Request body must be JSON",
        "result": None,
    }


def test_a_body_past_the_limit_is_refused(checkout_api, control):
    """Past NAVBAT_MAX_REQUEST_BYTES the request never reaches the bank's code: 413, as the
    bank's own front server answers an oversized body."""
    huge = '{"x": "' + "a" * 1_100_000 + '"}'
    assert checkout_api.post("payment/register", huge, raw=True).status_code == 413
    assert control.post("terminals", raw=huge).status_code == 413
