"""The Merchant API: the Uzum Bank app calls us to check, create, confirm, reverse and ask
the status of a payment made in the app (uzum-bank.md §2)."""
