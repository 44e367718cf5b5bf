"""The Uzum Bank adapter: the Checkout API client (``navbat.uzum.checkout``), and later the
callbacks, the Merchant API endpoints and the connect form.

Nothing outside this package knows an Uzum field name or imports an Uzum type.
"""
