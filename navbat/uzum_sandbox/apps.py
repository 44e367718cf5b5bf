from django.apps import AppConfig


class UzumSandboxConfig(AppConfig):
    name = "navbat.uzum_sandbox"
    label = "uzum_sandbox"
    verbose_name = "Uzum Bank sandbox"

    def ready(self):
        from navbat.kit import sandbox_tokens

        from .tokens import generation_of

        # Sandbox tokens mix in the owner's generation, kept here (see kit.sandbox_tokens).
        sandbox_tokens.use_generations(generation_of)
