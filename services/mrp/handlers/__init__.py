"""Use cases of the mrp service: load through the unit of work, call the domain, commit once."""
