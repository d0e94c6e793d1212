"""Delete expired API keys (login keys expire after SEEME_LOGIN_KEY_DAYS); run from cron."""

from django.core.management.base import BaseCommand

from seeme.services import apikey_prune_expired


class Command(BaseCommand):
    help = "Delete every expired API key and print how many went."

    def handle(self, *args, **options):
        count = apikey_prune_expired()
        if options["verbosity"]:
            self.stdout.write(f"Deleted {count} expired API key(s).")
