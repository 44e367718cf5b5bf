"""The API key and card numbers never appear in logs, exception text or repr — proven by
capturing every log record (ours, httpx's, httpcore's, the live server's, at DEBUG) and
every exception string through a whole register → pay → status → refund flow over HTTP."""

import logging
import traceback
import uuid

import httpx
import pytest

from navbat.uzum.checkout import CheckoutError, PayType, TransportError

from .sandbox import AMOUNT, CARD, order_request, over_a_socket, pay

CARDS = [CARD, "8600312929577175", "8600000000003008"]


def record_texts(records):
    texts = []
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        texts.append(repr(getattr(record, "__dict__", {})))
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    return texts


def exception_texts(error):
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


@over_a_socket  # httpcore's and the live server's log records too
def test_no_key_and_no_card_number_anywhere_through_a_whole_flow(
    caplog, terminal, client_for, sandbox_url
):
    for name in ("", "httpx", "httpcore", "navbat", "navbat.uzum.checkout", "django"):
        caplog.set_level(logging.DEBUG, logger=name)
    key = terminal.api_key
    checkout = client_for(terminal, read_retries=1, money_retries=1)
    seen: list[str] = [repr(checkout), str(checkout)]

    # register → pay (a declined card first, then a good one) → status → refund
    registered = checkout.register(order_request(pay_type=PayType.ONE_STEP), "ru")
    seen.append(repr(registered))
    pay(registered.order_id, card="8600000000003008")
    pay(registered.order_id, card=CARD)
    status = checkout.get_order_status(registered.order_id)
    seen.append(repr(status))
    refund = checkout.refund(registered.order_id, AMOUNT // 3, uuid.uuid4())
    seen.append(repr(checkout.get_operation_state(refund.operation_id)))
    seen.append(repr(checkout.get_receipts(registered.order_id)))
    checkout.refund(registered.order_id, AMOUNT - AMOUNT // 3, uuid.uuid4())

    # and the ways it fails: bank errors, a wrong key, a wrong path, a dead host
    failures = [
        lambda: checkout.refund(registered.order_id, 1, uuid.uuid4()),
        lambda: checkout.register(order_request(success_url="nope"), "ru"),
        lambda: checkout.get_order_status(uuid.uuid4()),
        lambda: client_for(terminal, api_key=key[::-1]).get_order_status(registered.order_id),
        lambda: client_for(terminal, base_url=sandbox_url + "/x").get_order_status(uuid.uuid4()),
        lambda: client_for(
            terminal, base_url="http://127.0.0.1:9", read_retries=1
        ).get_order_status(uuid.uuid4()),
        lambda: client_for(terminal, transport=httpx.MockTransport(_timeout)).complete(
            registered.order_id, 1, uuid.uuid4()
        ),
    ]
    for failure in failures:
        with pytest.raises((CheckoutError, TransportError)) as caught:
            failure()
        seen.extend(exception_texts(caught.value))

    texts = seen + record_texts(caplog.records)
    assert status.masked_pan is None or CARD not in status.masked_pan
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG really captured
    assert any(r.name.startswith("httpx") for r in caplog.records)
    assert any(r.name == "navbat.uzum.checkout" for r in caplog.records)
    for text in texts:
        assert key not in text
        for number in CARDS:
            assert number not in text


def _timeout(request):
    raise httpx.ReadTimeout("timed out", request=request)
