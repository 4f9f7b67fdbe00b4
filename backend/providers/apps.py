from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "backend.providers"
    label = "providers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import ModelAlias
        from .registry import bump_registry_version

        # Any change to an alias (admin, API, seed, shell) invalidates every process's cached routes.
        for signal in (post_save, post_delete):
            signal.connect(lambda **_: bump_registry_version(), sender=ModelAlias, weak=False,
                           dispatch_uid=f"model-registry-{signal}")
