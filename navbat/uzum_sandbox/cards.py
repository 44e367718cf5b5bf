"""Test cards of the sandbox bank: each number has a scheme and an outcome."""

from dataclasses import dataclass

THREE_DS_CODE = "777777"


@dataclass(frozen=True)
class TestCard:
    number: str
    ips: str  # the scheme the order status reports
    label: str
    three_ds: bool = False  # asks for the 3-D Secure code
    decline_code: int | None = None  # actionCode of a declined attempt
    card_type: int = 2  # 1 corporate, 2 personal

    @property
    def masked(self) -> str:
        return f"{self.number[:6]}******{self.number[-4:]}"


CARDS = [
    TestCard("8600312929577175", "UZCARD", "Uzcard (official test card)", three_ds=True),
    TestCard("9860090101219724", "HUMO", "Humo (official test card)", three_ds=True),
    TestCard("8600000000000018", "UZCARD", "Uzcard, no 3-D Secure"),
    TestCard("9860000000000016", "HUMO", "Humo, no 3-D Secure"),
    TestCard("4916990000000014", "VISA", "Uzum Bank Visa"),
    TestCard("4111111111111111", "VISA", "Visa of another bank"),
    TestCard("5555555555554444", "MASTERCARD", "MasterCard of another bank"),
    TestCard("4000000000003063", "VISA", "Visa that always asks for 3-D Secure", three_ds=True),
    TestCard(
        "8600000000003008", "UZCARD", "Declines: insufficient funds (3008)", decline_code=3008
    ),
    TestCard("9860000000003009", "HUMO", "Declines: antifraud (3009)", decline_code=3009),
    TestCard("8600000000003011", "UZCARD", "Declines: issuer (3011)", decline_code=3011),
    TestCard("8600000000001111", "UZCARD", "Corporate Uzcard", card_type=1),
]
BY_NUMBER = {card.number: card for card in CARDS}

DECLINE_TEXT = {
    3008: "Insufficient funds",
    3009: "Rejected by antifraud",
    3011: "Rejected by the issuer",
    3012: "Wrong 3-D Secure code",
    3013: "Unknown card",
}


def find(number: str) -> TestCard | None:
    return BY_NUMBER.get("".join(ch for ch in (number or "") if ch.isdigit()))
