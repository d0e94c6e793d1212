"""Pages of the splits: one split's statistics and the split tools (assign by ratio,
split health and its CSV, version comparison, duplicate). Access goes through
``seeme.selectors.version_for_user``: unknown or foreign ids are a 404, too low a role a
403."""
