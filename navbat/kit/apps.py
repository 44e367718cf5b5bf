from django.apps import AppConfig


class KitConfig(AppConfig):
    name = "navbat.kit"
    label = "kit"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from navbat.kit.varfiles import protect_sqlite_files

        connection_created.connect(protect_sqlite_files, dispatch_uid="navbat-private-sqlite")
