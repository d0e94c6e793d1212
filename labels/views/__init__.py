"""Pages of the statistics: a version's split x label matrix, its CSV and the item browser
(items with their labels). Access goes through ``seeme.selectors.version_for_user``."""
