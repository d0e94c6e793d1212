"""Print a new API key for an existing user (for scripts, CI and the first admin)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from seeme.services import apikey_create


class Command(BaseCommand):
    help = "Create an API key for USERNAME and print it (the key is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label for the key (default: cli).")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Days until the key stops working (default: never).",
        )

    def handle(self, *args, username: str, name: str, expires_in_days: int | None, **options):
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is named {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is inactive; a key would not work.")
        _, raw = apikey_create(user=user, name=name, expires_in_days=expires_in_days)
        # The key alone on stdout, so that `KEY=$(manage.py create_api_key alice)` works.
        self.stdout.write(raw)
