"""Bearer-token authentication: each token opens exactly one business."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from navbat.accounts.services import business_for_token


class BusinessToken(HttpBearer):
    """``Authorization: Bearer <token>``; ``request.auth`` is then the token's business."""

    def authenticate(self, request: HttpRequest, token: str):
        return business_for_token(token.strip())
