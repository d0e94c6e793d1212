"""Admin for the kernel: users, datasets with their versions and shares, items, API keys.

Every write goes through the services (``seeme.services``, and ``labels.services`` for those
that move statistics); the plumbing is in ``seeme.admin_site``.
"""

# Importing the modules registers their ModelAdmins with the site.
from seeme.admin import accounts, datasets, items, jobs  # noqa: F401
