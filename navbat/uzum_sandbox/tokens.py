"""The owners' sandbox token generations (see ``navbat.kit.sandbox_tokens``)."""

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import TokenGeneration


def generation_of(owner: str) -> int:
    row = TokenGeneration.objects.filter(owner=owner).values_list("generation", flat=True)
    return next(iter(row), 0)


def rotate(owner: str) -> int:
    """Bump ``owner``'s generation (every token made before stops working); the new one.
    Concurrent rotations each count: the increment happens in the database."""
    for _attempt in range(2):
        with transaction.atomic():
            bumped = TokenGeneration.objects.filter(owner=owner).update(
                generation=F("generation") + 1
            )
            if bumped:
                return TokenGeneration.objects.get(owner=owner).generation
        try:
            with transaction.atomic():
                TokenGeneration.objects.create(owner=owner, generation=1)
            return 1
        except IntegrityError:
            continue  # another rotation made the row first: bump it
    raise RuntimeError("could not rotate the sandbox token")  # pragma: no cover
